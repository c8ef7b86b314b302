using System.Diagnostics;
using System.Security.Cryptography;
using DiveAspire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace DiveAspire.Tests.ContainerRuntime;

/// <summary>
/// The federation in container runtime under Podman: hub USA + spoke ROU + shared store, Redis as containers (local
/// stand-in images), backends as processes. Starts nothing when Podman is not ready (the tests then skip with
/// <see cref="PodmanEnvironment.Reason"/>). Volumes get a per-run prefix and are removed afterwards, and any container
/// still present after DCP's own cleanup is removed too.
/// </summary>
public sealed class PodmanFederationFixture : FederationFixture, IAsyncLifetime
{
    private const string ContainerIdProperty = "container.id"; // the dashboard's KnownProperties.Container.Id (internal)
    private readonly Dictionary<string, string?> _previousEnvironment = new();
    private readonly HashSet<string> _containerIds = [];
    private bool _disposed;

    public string VolumePrefix { get; } = "dive-it-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
    public TimeSpan TimeToHealthy { get; private set; }

    public override string Spokes => "rou";
    // No Keycloak image can be had without a registry: these tests prove the Redis containers, not authentication.
    protected override IEnumerable<string> ExtraArgs => ["Dive:Runtime=container", $"Dive:VolumePrefix={VolumePrefix}", "ASPIRE_CONTAINER_RUNTIME=podman", "Dive:Keycloak=false"];

    public string VolumeName(string redis) => $"{VolumePrefix}-{redis}-data";

    public new async Task InitializeAsync()
    {
        if (!PodmanEnvironment.Ready)
        {
            return;
        }
        // DCP is started by this process and runs podman with this process's environment.
        foreach (var (name, value) in PodmanEnvironment.Variables)
        {
            SetEnvironment(name, value);
        }
        SetEnvironment("ASPIRE_CONTAINER_RUNTIME", "podman");
        var clock = Stopwatch.StartNew();
        // A failed base start has already stopped the app: then only the volumes and environment remain to clean up.
        _disposed = true;
        try
        {
            await base.InitializeAsync();
            _disposed = false;
            TimeToHealthy = clock.Elapsed;
            foreach (var redis in RedisNames)
            {
                _containerIds.Add(ContainerId(redis));
            }
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>The Podman container id DCP reports for a container resource.</summary>
    public string ContainerId(string resource)
    {
        var notifications = App.Services.GetRequiredService<ResourceNotificationService>();
        Assert.True(notifications.TryGetCurrentState(resource, out var state), $"no state for {resource}");
        var id = state.Snapshot.Properties.FirstOrDefault(p => p.Name == ContainerIdProperty)?.Value as string;
        Assert.False(string.IsNullOrEmpty(id), $"{resource} has no container id");
        _containerIds.Add(id!);
        return id!;
    }

    public new async Task DisposeAsync()
    {
        try
        {
            if (!_disposed)
            {
                _disposed = true;
                await base.DisposeAsync();
            }
        }
        finally
        {
            foreach (var id in _containerIds.Where(id => PodmanEnvironment.Podman($"container exists {id}").ExitCode == 0))
            {
                PodmanEnvironment.Podman($"rm --force --time 2 {id}");
            }
            if (PodmanEnvironment.Ready)
            {
                foreach (var redis in Topology?.RedisStores.Select(s => s.ResourceName) ?? [])
                {
                    PodmanEnvironment.Podman($"volume rm --force {VolumeName(redis)}");
                }
            }
            foreach (var (name, value) in _previousEnvironment)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    private void SetEnvironment(string name, string? value)
    {
        _previousEnvironment.TryAdd(name, Environment.GetEnvironmentVariable(name));
        Environment.SetEnvironmentVariable(name, value);
    }
}

[CollectionDefinition(Name)]
public sealed class PodmanFederationCollection : ICollectionFixture<PodmanFederationFixture>
{
    public const string Name = "podman-federation";
}
