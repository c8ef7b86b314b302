using Aspire.Hosting;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using StackExchange.Redis;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>
/// A real federation (hub USA + spokes ROU and BEL, process runtime, random host ports, private data directory)
/// started once per test collection and always stopped, even when a test fails.
/// </summary>
public class FederationFixture : IAsyncLifetime
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    public static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(1);

    private readonly string _data = Directory.CreateTempSubdirectory("dive-it-").FullName;

    public virtual string Spokes => "rou,bel";
    /// <summary>Start to every Redis and backend healthy; longer where images are built and containers created first.</summary>
    protected virtual TimeSpan StartupTimeout => StartTimeout;
    protected virtual IEnumerable<string> ExtraArgs => [];

    /// <summary>
    /// The tests play the operator's reverse proxy: the backends believe X-Forwarded-For from loopback, so each test can
    /// count against its own client address (<see cref="HttpAssertions.From"/>).
    /// </summary>
    protected virtual IEnumerable<string> TestProxy => ["Dive:ForwardedHeaders:KnownProxies=127.0.0.1,::1"];

    /// <summary>Last changes to the app model before it is built (e.g. an environment variable of one backend).</summary>
    protected virtual void Configure(IDistributedApplicationTestingBuilder builder)
    {
    }

    /// <summary>This run's secrets (a joining spoke's fixture takes its hub's: they share the federation's keys).</summary>
    public TestSecrets Secrets { get; protected init; } = new();
    public LogCapture Logs { get; } = new();
    public DiveTopology Topology { get; private set; } = null!;
    public DistributedApplication App { get; private set; } = null!;
    public string DataPath => _data;

    /// <summary>Every Redis resource: the instances' and the shared store's (with HA its replicas and Sentinels too).</summary>
    public virtual IEnumerable<string> RedisNames => Topology.RedisStores.Select(s => s.ResourceName).Concat(Topology.BlacklistHa?.ResourceNames.Skip(1) ?? []);
    public virtual IEnumerable<string> BackendNames => Topology.Instances.Select(i => i.BackendResourceName);

    public async Task InitializeAsync()
    {
        Topology = DiveTopology.Load(AppHostArgs.InstancesDirectory, Spokes, ExtraArgs.Contains(AppHostArgs.HighAvailability));
        using var cts = new CancellationTokenSource(StartupTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.DiveAspire_AppHost>(
            AppHostArgs.For("process", Spokes, _data, Secrets, [.. TestProxy, .. ExtraArgs]), cts.Token);

        // No OTLP collector runs in tests; without this, backends retry exports and slow every shutdown.
        foreach (var backend in builder.Resources.OfType<IResourceWithEnvironment>().Where(r => r.Name.StartsWith("backend-", StringComparison.Ordinal)).ToList())
        {
            builder.CreateResourceBuilder(backend).WithEnvironment(ctx => ctx.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT"));
        }

        // Everything is captured (the secret scan reads it); the console gets warnings only, so a test run's output
        // stays readable and a failure is not buried under DCP's debug logs.
        builder.Services.AddLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace)
            .AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning));
        Configure(builder);
        App = await builder.BuildAsync(cts.Token);
        try
        {
            await App.StartAsync(cts.Token);
            await Task.WhenAll(RedisNames.Concat(BackendNames).Select(name => WaitHealthyAsync(name, cts.Token)));
        }
        catch (Exception ex)
        {
            // Say why: the last log lines of every Redis and backend, captured before everything stops.
            var logs = string.Join('\n', RedisNames.Concat(BackendNames).Select(name => $"--- {name}:\n{RecentLogs(name, 10)}"));
            await DisposeAsync();
            throw new InvalidOperationException($"The federation did not start healthy within {StartTimeout.TotalMinutes} min ({ex.GetType().Name}: {ex.Message}).\n{logs}", ex);
        }
    }

    public Task WaitHealthyAsync(string resource, CancellationToken ct) =>
        App.Services.GetRequiredService<ResourceNotificationService>().WaitForResourceHealthyAsync(resource, ct);

    /// <summary>Waits for a resource to be healthy; on failure the message ends with the resource's last log lines.</summary>
    public async Task WaitHealthyAsync(string resource, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await WaitHealthyAsync(resource, cts.Token);
        }
        catch (Exception ex) when (ex is DistributedApplicationException or OperationCanceledException)
        {
            throw new InvalidOperationException($"{resource} did not become healthy within {timeout.TotalSeconds} s ({ex.Message}). Its last log lines:\n{RecentLogs(resource)}", ex);
        }
    }

    public string RecentLogs(string resource, int lines = 30) =>
        string.Join('\n', Logs.Lines.Where(l => l.Category.EndsWith("." + resource, StringComparison.Ordinal)).TakeLast(lines).Select(l => l.Message));

    public async Task<string> ConnectionStringAsync(string redis) =>
        await App.GetConnectionStringAsync(redis) ?? throw new InvalidOperationException($"no connection string for {redis}");

    /// <summary>A connection as the Redis's admin user (tests set up and inspect anything); its resource's own connection string is the operator's.</summary>
    public async Task<ConnectionMultiplexer> ConnectAsync(string redis)
    {
        var options = ConfigurationOptions.Parse(await ConnectionStringAsync(redis));
        options.User = RedisAcl.AdminUser;
        options.CommandMap = CommandMap.Default;
        options.Password = Secrets.For(Topology.RedisStores.Concat(Topology.BlacklistDataNodes).First(s => s.ResourceName == redis));
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 3000;
        options.AllowAdmin = true;
        if (options.Ssl)
        {
            // The shared store beyond loopback speaks TLS only: validated against this run's development CA.
            options.TrustIssuer(Path.Combine(DataPath, "tls", DiveAspire.AppHost.Tls.DevelopmentCertificateAuthority.CertificateFileName));
        }
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>The pid of a Redis server process, to signal it (a hung Redis is a SIGSTOP, not a stop command).</summary>
    public async Task<int> ProcessIdAsync(string redis)
    {
        await using var connection = await ConnectAsync(redis);
        var info = await connection.GetServers()[0].InfoAsync("server");
        return int.Parse(info.SelectMany(g => g).Single(kv => kv.Key == "process_id").Value);
    }

    /// <summary>host:port of a Redis as seen from the test (through DCP's proxy).</summary>
    public async Task<(string Host, int Port)> RedisEndpointAsync(string redis)
    {
        var endpoint = ConfigurationOptions.Parse(await ConnectionStringAsync(redis)).EndPoints[0];
        return endpoint switch
        {
            System.Net.DnsEndPoint dns => (dns.Host, dns.Port),
            System.Net.IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            _ => throw new InvalidOperationException($"unexpected endpoint {endpoint}"),
        };
    }

    /// <summary>A development token signed with this run's key, as `dive token mint` would print it.</summary>
    public string Mint(string issuer, string user, string clearance = "SECRET", TimeSpan? ttl = null, string? jti = null, string? country = null,
        IReadOnlyList<string>? coi = null, IReadOnlyList<string>? roles = null) =>
        DiveAspire.Cli.Tokens.DevTokenMinter.Mint(
            new(NatoCatalog.Get(issuer), user, clearance, ttl, country, coi, jti, Roles: roles), Secrets.DevSigningKey);

    /// <summary>A token with the dive-admin role, for operator endpoints.</summary>
    public string MintAdmin(string issuer = "usa") => Mint(issuer, "operator-" + issuer, roles: ["dive-admin"]);

    public HttpClient Backend(string code, string? token)
    {
        var client = Backend(code);
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        }
        return client;
    }

    public HttpClient Backend(string code) => App.CreateHttpClient($"backend-{code.ToLowerInvariant()}", "http");

    public async Task ExecuteCommandAsync(string resource, string command, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var result = await App.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(resource, command, cts.Token);
        Assert.True(result.Success, $"{command} on {resource} failed: {result.Message}");
    }

    /// <summary>
    /// Runs a start or restart command, then waits until a new instance (another pid or container id) runs and is
    /// healthy. Right after the command the snapshot can still be the old instance's ("Exited", or "Running" and healthy
    /// before it stops), which a plain health wait would take for the answer.
    /// </summary>
    public async Task StartAgainAsync(string resource, string command, TimeSpan timeout)
    {
        var notifications = App.Services.GetRequiredService<ResourceNotificationService>();
        var previous = notifications.TryGetCurrentState(resource, out var current) ? InstanceOf(current.Snapshot) : null;
        await ExecuteCommandAsync(resource, command, timeout);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await notifications.WaitForResourceAsync(resource, e =>
                e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy &&
                InstanceOf(e.Snapshot) is { } instance && instance != previous, cts.Token);
        }
        catch (OperationCanceledException ex)
        {
            throw new InvalidOperationException($"{resource} did not run healthy again within {timeout.TotalSeconds} s of '{command}'. Its last log lines:\n{RecentLogs(resource)}", ex);
        }
    }

    // The dashboard's KnownProperties.Executable.Pid and KnownProperties.Container.Id (internal to Aspire).
    private static string? InstanceOf(CustomResourceSnapshot snapshot) =>
        snapshot.Properties.FirstOrDefault(p => p.Name is "executable.pid" or "container.id")?.Value?.ToString();

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            try
            {
                await App.StopAsync().WaitAsync(StopTimeout);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                // DisposeAsync below still tears down DCP and every process it started.
            }
            await App.DisposeAsync().AsTask().WaitAsync(StopTimeout);
        }
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // A Redis that was just killed may still be closing its files; the temp folder is harmless.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class FederationCollection : ICollectionFixture<FederationFixture>
{
    public const string Name = "federation";
}
