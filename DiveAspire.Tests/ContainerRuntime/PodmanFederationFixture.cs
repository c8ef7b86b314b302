using Aspire.Hosting;
using System.Diagnostics;
using System.Security.Cryptography;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;

namespace DiveAspire.Tests.ContainerRuntime;

/// <summary>
/// The federation in container runtime under Podman, as `./dive up --runtime container` builds it: hub USA + spoke ROU
/// + shared store, Redis and the monitoring stack as containers (local stand-in images), backends as processes.
/// Keycloak has no image here, so the backends trust an <see cref="OidcRealmStandIn"/> for the USA and ROU realms
/// instead (as they trust each Keycloak realm), which lets the tests revoke a token for real. Starts nothing when Podman
/// is not ready (the tests then skip with <see cref="PodmanEnvironment.Reason"/>). Volumes get a per-run prefix and are
/// removed afterwards, and any container still present after DCP's own cleanup is removed too.
/// </summary>
public class PodmanFederationFixture : FederationFixture, IAsyncLifetime
{
    public const string ScrapeInterval = "5s";
    public static readonly string[] MonitoringResources = [MonitoringNames.RedisExporter, MonitoringNames.Alertmanager, MonitoringNames.Prometheus];
    private static readonly string[] RealmCodes = ["usa", "rou"];

    private const string ContainerIdProperty = "container.id"; // the dashboard's KnownProperties.Container.Id (internal)
    private readonly Dictionary<string, string?> _previousEnvironment = new();
    private readonly HashSet<string> _containerIds = [];
    private bool _disposed;

    public string VolumePrefix { get; } = "dive-it-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
    public TimeSpan TimeToHealthy { get; private set; }

    public OidcRealmStandIn Realms { get; } = new(RealmCodes);

    public override string Spokes => "rou";

    /// <summary>The shared store highly available (--ha): its nodes and Sentinels run on the host's network (<see cref="HaContainerLaunch"/>).</summary>
    protected virtual bool HighAvailability => false;
    // Images are built or pulled and the container tunnel is set up before the monitoring starts.
    protected override TimeSpan StartupTimeout => TimeSpan.FromMinutes(6);
    // No Keycloak image can be had without a registry (./dive up --runtime container then sets Dive:Keycloak=false too).
    protected override IEnumerable<string> ExtraArgs =>
    [
        "Dive:Runtime=container", $"Dive:VolumePrefix={VolumePrefix}", "ASPIRE_CONTAINER_RUNTIME=podman", "Dive:Keycloak=false",
        "Dive:Monitoring=true", $"Dive:Monitoring:ScrapeInterval={ScrapeInterval}", "Dive:Monitoring:AlertFor=5s",
        .. RealmCodes.SelectMany(backend => RealmCodes.Select(realm => $"Dive:Backends:{backend}:Auth:Realms:{realm}:MetadataAddress={Realms.MetadataAddress(realm)}")),
        .. HighAvailability ? [AppHostArgs.HighAvailability] : Array.Empty<string>(),
    ];

    public string VolumeName(string redis) => $"{VolumePrefix}-{redis}-data";

    /// <summary>The Redis resources that are container resources (with HA, the shared store's nodes are not: <see cref="HaContainerNames"/>).</summary>
    public IEnumerable<string> ContainerRedisNames => RedisNames.Except(Topology.BlacklistHa?.ResourceNames ?? []);

    /// <summary>The containers the HA store's executables run (podman run --name), by resource name.</summary>
    public IReadOnlyDictionary<string, string> HaContainerNames =>
        (Topology?.BlacklistHa?.ResourceNames ?? []).ToDictionary(n => n, n => HaContainerLaunch.ContainerName(VolumePrefix, n));

    private IEnumerable<string> Volumes => (Topology?.RedisStores.Concat(Topology.BlacklistDataNodes).Select(s => VolumeName(s.ResourceName)).Distinct() ?? [])
        .Concat([$"{VolumePrefix}-prometheus-data", $"{VolumePrefix}-alertmanager-data"]);

    public HttpClient Prometheus() => App.CreateHttpClient(MonitoringNames.Prometheus, "http");
    public HttpClient Alertmanager() => App.CreateHttpClient(MonitoringNames.Alertmanager, "http");

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
            await Realms.StartAsync();
            await base.InitializeAsync();
            _disposed = false;
            using var cts = new CancellationTokenSource(StartupTimeout);
            await Task.WhenAll(MonitoringResources.Select(name => WaitHealthyAsync(name, cts.Token)));
            TimeToHealthy = clock.Elapsed;
            foreach (var container in ContainerRedisNames.Concat(MonitoringResources))
            {
                _containerIds.Add(ContainerId(container));
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
            foreach (var id in _containerIds.Concat(HaContainerNames.Values).Where(id => PodmanEnvironment.Podman($"container exists {id}").ExitCode == 0))
            {
                PodmanEnvironment.Podman($"rm --force --time 2 {id}");
            }
            if (PodmanEnvironment.Ready)
            {
                foreach (var volume in Volumes)
                {
                    PodmanEnvironment.Podman($"volume rm --force {volume}");
                }
            }
            PodmanEnvironment.StopOrphanedEventWatchers();
            await Realms.DisposeAsync();
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

/// <summary>The same federation with the shared store highly available (--ha): primary, two replicas and three Sentinels.</summary>
public sealed class PodmanHaFixture : PodmanFederationFixture
{
    protected override bool HighAvailability => true;
}

[CollectionDefinition(Name)]
public sealed class PodmanHaCollection : ICollectionFixture<PodmanHaFixture>
{
    public const string Name = "podman-ha";
}

[CollectionDefinition(Name)]
public sealed class PodmanFederationCollection : ICollectionFixture<PodmanFederationFixture>
{
    public const string Name = "podman-federation";
}
