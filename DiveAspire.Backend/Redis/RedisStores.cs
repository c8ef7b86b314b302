using StackExchange.Redis;

namespace DiveAspire.Backend.Redis;

/// <summary>
/// The backend's two Redis connections: <see cref="Cache"/> (this instance's own Redis) and <see cref="Blacklist"/>
/// (the federation's shared revocation store), the keyed clients of Aspire's Redis integration (<see cref="RedisClientSetup"/>).
/// Connections never abort on failure: the multiplexer keeps reconnecting in the background, so a Redis that comes back
/// is used again without a restart. Lost and restored connections are logged here, with the endpoint only.
/// </summary>
/// <remarks>
/// What the integration cannot do stays with the code that needs it. It only (re)connects; it knows nothing of what a
/// reconnect means for a cache fed by a channel: pub/sub drops what is published while a subscriber is disconnected, so
/// <see cref="Revocation.RevocationSubscriber"/> listens to the shared store's ConnectionFailed/ConnectionRestored events
/// itself and rebuilds its cache (SCAN) after every reconnect, and <see cref="Authorization.InvalidationSubscriber"/>
/// retries its first subscription until the store answers (a backend must start during a store outage).
/// With the HA shared store, <see cref="Blacklist"/> is a <see cref="DataNodeConnection"/>: not connected until a majority
/// of the Sentinels named the data nodes (<see cref="SharedStoreDiscovery"/> then calls <see cref="UseDataNodes"/>),
/// which its users see as a store outage that ends.
/// </remarks>
public sealed class RedisStores : IDisposable
{
    public const string CacheName = "cache";
    public const string BlacklistName = "blacklist";
    public const string BlacklistWritesName = "blacklist-writes";

    private readonly ILoggerFactory _loggers;
    private readonly RecordedTraceRedisProfiler? _profiler;
    private readonly object _gate = new();
    private volatile IConnectionMultiplexer? _blacklistWrites;
    private bool _disposed;

    public RedisStores(
        [FromKeyedServices(CacheName)] IConnectionMultiplexer cache,
        [FromKeyedServices(BlacklistName)] IConnectionMultiplexer blacklist,
        ILoggerFactory loggers,
        SentinelPrimary? sentinels = null,
        RecordedTraceRedisProfiler? profiler = null)
    {
        Cache = cache;
        Blacklist = blacklist;
        BlacklistPrimary = sentinels;
        _loggers = loggers;
        _profiler = profiler;
        LogConnectionEvents(cache, CacheName, loggers);
        LogConnectionEvents(blacklist, BlacklistName, loggers);
        profiler?.Register(cache);
        profiler?.Register(blacklist);
    }

    /// <summary>
    /// HA: the connections to the data nodes a majority of the Sentinels named (<see cref="SharedStoreDiscovery"/>):
    /// <paramref name="dataNodes"/> behind <see cref="Blacklist"/> from now on, <paramref name="writes"/> as
    /// <see cref="BlacklistWrites"/>, and the node the Sentinels name is confirmed with ROLE on <paramref name="dataNodes"/>.
    /// </summary>
    internal void UseDataNodes(IConnectionMultiplexer dataNodes, IConnectionMultiplexer writes)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                writes.Dispose();
                dataNodes.Dispose();
                return;
            }
            LogConnectionEvents(writes, BlacklistWritesName, _loggers);
            _profiler?.Register(writes);
            _blacklistWrites = writes;
        }
        BlacklistPrimary?.ConfirmWith(dataNodes);
        ((DataNodeConnection)Blacklist).Attach(dataNodes);
    }

    /// <summary>With the HA shared store (a Sentinel connection string): the primary its Sentinels name; else null.</summary>
    public SentinelPrimary? BlacklistPrimary { get; }

    public IConnectionMultiplexer Cache { get; }
    public IConnectionMultiplexer Blacklist { get; }

    /// <summary>
    /// With the HA shared store: the data nodes again, on connections of their own for the revocation script and its
    /// WAIT (null until the Sentinels named them); else null.
    /// </summary>
    public IConnectionMultiplexer? BlacklistWrites => _blacklistWrites;

    public IConnectionMultiplexer Get(string name) => name == BlacklistName ? Blacklist : Cache;

    /// <summary>CLIENT SETNAME of a backend's connections, so `CLIENT LIST` tells which backend is connected (and subscribed).</summary>
    public static string ClientName(string instanceCode, string store) => $"dive-backend-{instanceCode.ToLowerInvariant()}-{store}";

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }
        _blacklistWrites?.Dispose();
    }

    private static void LogConnectionEvents(IConnectionMultiplexer connection, string store, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger($"DiveAspire.Redis.{store}");
        // Endpoint only: the configuration string would include the password.
        connection.ConnectionFailed += (_, e) => logger.LogWarning("Redis '{Store}' connection to {Endpoint} lost: {FailureType}", store, e.EndPoint, e.FailureType);
        connection.ConnectionRestored += (_, e) => logger.LogInformation("Redis '{Store}' connection to {Endpoint} restored", store, e.EndPoint);
    }
}
