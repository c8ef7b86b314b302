using DiveAspire.Backend.Instance;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using DiveAspire.Topology.Tls;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace DiveAspire.Backend.Redis;

/// <summary>
/// The backend's Redis clients through Aspire's Redis client integration (<c>Aspire.StackExchange.Redis</c>): one keyed
/// <see cref="IConnectionMultiplexer"/> per store, read from <c>ConnectionStrings:cache</c> and <c>ConnectionStrings:blacklist</c>,
/// with the integration's health check. The integration's tracing is off: <see cref="RecordedTraceRedisProfiler"/> makes
/// the commands of recorded traces spans in the dashboard's traces, and profiles nothing else.
/// </summary>
public static class RedisClientSetup
{
    /// <summary>Tag of the integration's health checks (the backend's own PING checks carry <see cref="Health.HealthEndpoints.RedisTag"/>).</summary>
    public const string ClientHealthTag = "redis-client";

    private const string StackExchangeRedisLogCategory = "StackExchange.Redis";

    /// <summary>The name the integration gives its health check of a keyed client.</summary>
    public static string ClientHealthCheckName(string store) => $"StackExchange.Redis_{store}";

    public static IHostApplicationBuilder AddDiveRedisClients(this IHostApplicationBuilder builder, InstanceInfo instance)
    {
        var ioOnThreadPool = !string.Equals(builder.Configuration["Dive:Redis:IoThreads"], "dedicated", StringComparison.OrdinalIgnoreCase);
        foreach (var store in new[] { RedisStores.CacheName, RedisStores.BlacklistName })
        {
            // The connection string is passed through as it is (ConfigurationOptions.Parse): the ACL client options the
            // AppHost appends (RedisAcl.ClientOptions) and a Sentinel string (serviceName=..., sentinel endpoints) included.
            // A store that speaks TLS (the hub's, reached from beyond loopback) is validated against its CA only.
            var tlsCa = builder.Configuration[$"{TlsCaSection}:{store}"];
            builder.AddKeyedRedisClient(store, configureSettings: settings => settings.DisableTracing = true, configureOptions: options =>
            {
                Configure(options, instance.Code, store, tlsCa);
                // The client's default reads and completes replies on its own dedicated threads, and every awaiting request
                // then hops to the thread pool: two context switches per command on 2 cores shared with wrk, Redis and
                // other backends. The thread pool serves the sockets itself (docs/benchmarks.md, session 7).
                // Dive:Redis:IoThreads=dedicated keeps the client's default (the bench's baseline).
                if (ioOnThreadPool)
                {
                    options.SocketManager = SocketManager.ThreadPool;
                }
            });
        }
        // StackExchange.Redis's own log (which the integration wires up) is its connection handshake at Information and
        // every failed reconnect attempt (one each 500 ms) as an error with a stack trace; RedisStores logs one line per
        // lost and restored connection instead. Logging:LogLevel:StackExchange.Redis=Information brings it back for debugging.
        if (builder.Configuration[$"Logging:LogLevel:{StackExchangeRedisLogCategory}"] is null)
        {
            builder.Logging.AddFilter(StackExchangeRedisLogCategory, LogLevel.None);
        }
        builder.AddSharedStoreSentinels();
        builder.Services.AddSingleton<RecordedTraceRedisProfiler>();
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(RecordedTraceRedisProfiler.ActivitySourceName));
        builder.Services.AddSingleton<RedisStores>();
        // Created with the host, so connection losses are logged from the start, not from the first request that needs Redis.
        builder.Services.ActivateSingleton<RedisStores>();
        builder.Services.Configure<HealthCheckServiceOptions>(options => KeepReadinessSemantics(options.Registrations));
        return builder;
    }

    /// <summary>
    /// The HA shared store (a Sentinel connection string, <c>serviceName=...</c>): <see cref="SentinelPrimary"/> finds the
    /// data nodes through the Sentinels and the keyed <c>blacklist</c> client connects to them plainly (the client's own
    /// Sentinel mode throws at start during an outage and follows a resumed old primary; see SentinelPrimary). The
    /// Sentinels may take long to agree (down, hung, cut off): the keyed client is a <see cref="DataNodeConnection"/>,
    /// not connected until <see cref="SharedStoreDiscovery"/> found the data nodes in the background, so that nothing
    /// waits for them on the start-up path (the integration's own client, which would connect at resolution, is removed).
    /// </summary>
    private static void AddSharedStoreSentinels(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(RedisStores.BlacklistName);
        if (connectionString is null || ConfigurationOptions.Parse(connectionString).ServiceName is not { Length: > 0 })
        {
            return;
        }
        var discoveryTimeout = SentinelPrimary.DiscoveryTimeoutFrom(builder.Configuration);
        builder.Services.AddSingleton(sp => SentinelPrimary.For(connectionString, sp.GetRequiredService<ILoggerFactory>(), discoveryTimeout)!);
        var integrationClient = builder.Services.Single(d => d.ServiceType == typeof(IConnectionMultiplexer) && d.IsKeyedService
            && Equals(d.ServiceKey, RedisStores.BlacklistName));
        builder.Services.Remove(integrationClient);
        var serviceName = ConfigurationOptions.Parse(connectionString).ServiceName!;
        builder.Services.AddKeyedSingleton<IConnectionMultiplexer>(RedisStores.BlacklistName, (sp, _) =>
            new DataNodeConnection(serviceName, sp.GetRequiredService<IOptionsMonitor<ConfigurationOptions>>().Get(RedisStores.BlacklistName)));
        builder.Services.AddHostedService<SharedStoreDiscovery>();
    }

    /// <summary>What the backend needs of every connection, on top of what the connection string says.</summary>
    /// <summary><c>Dive:Redis:TlsCa:&lt;store&gt;</c>: the CA certificate (PEM path) of a store that speaks TLS, set by the AppHost.</summary>
    public const string TlsCaSection = "Dive:Redis:TlsCa";

    public static void Configure(ConfigurationOptions options, string instanceCode, string store, string? tlsCa = null)
    {
        if (tlsCa is { Length: > 0 })
        {
            options.Ssl = true;
            options.CertificateValidation += PinnedCertificateAuthority.Validator(tlsCa);
        }
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        options.SyncTimeout = 2000;
        options.AsyncTimeout = 2000;
        options.ReconnectRetryPolicy = new LinearRetry(500);
        options.ClientName = RedisStores.ClientName(instanceCode, store);
    }

    /// <summary>
    /// The integration registers its checks as unhealthy on failure and untagged. A backend serves on without its Redis
    /// (in-memory limiter, locally known revocations): a store that is down makes it degraded, never unready, and on a
    /// spoke the shared store being down must not fail its cache-only routes. So these checks fail as degraded, like the
    /// backend's own; readiness before the first revocation sync stays with the revocation check. They are tagged
    /// <see cref="ClientHealthTag"/> and stay out of /health/redis, which keeps its two entries (cache, blacklist). A failure
    /// is reported (and logged) as one line, not with its exception's stack trace on every probe.
    /// </summary>
    private static void KeepReadinessSemantics(ICollection<HealthCheckRegistration> registrations)
    {
        var names = new[] { RedisStores.CacheName, RedisStores.BlacklistName }.Select(ClientHealthCheckName).ToHashSet(StringComparer.Ordinal);
        foreach (var registration in registrations.Where(r => names.Contains(r.Name)))
        {
            var check = registration.Factory;
            var blacklist = registration.Name == ClientHealthCheckName(RedisStores.BlacklistName);
            registration.Factory = services => blacklist
                && services.GetKeyedService<IConnectionMultiplexer>(RedisStores.BlacklistName) is DataNodeConnection dataNodes
                ? new DataNodesHealthCheck(dataNodes, new Health.OneLineHealthCheck(check(services)))
                : new Health.OneLineHealthCheck(check(services));
            registration.FailureStatus = HealthStatus.Degraded;
            registration.Timeout = TimeSpan.FromSeconds(2);
            registration.Tags.Add(ClientHealthTag);
        }
    }

    /// <summary>
    /// HA: the integration's check would find no endpoint on a <see cref="DataNodeConnection"/> whose data nodes are not
    /// known yet, and report it healthy; it fails (as degraded, like any store outage) until they are.
    /// </summary>
    private sealed class DataNodesHealthCheck(DataNodeConnection connection, IHealthCheck check) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            connection.HasDataNodes
                ? check.CheckHealthAsync(context, cancellationToken)
                : Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, connection.GetStatus()));
    }
}
