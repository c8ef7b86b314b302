using DiveAspire.Backend.Instance;
using Microsoft.Extensions.Options;
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
/// </remarks>
public sealed class RedisStores : IDisposable
{
    public const string CacheName = "cache";
    public const string BlacklistName = "blacklist";
    public const string BlacklistWritesName = "blacklist-writes";

    public RedisStores(
        [FromKeyedServices(CacheName)] IConnectionMultiplexer cache,
        [FromKeyedServices(BlacklistName)] IConnectionMultiplexer blacklist,
        IOptionsMonitor<ConfigurationOptions> options,
        InstanceInfo instance,
        ILoggerFactory loggers,
        SentinelPrimary? sentinels = null,
        RecordedTraceRedisProfiler? profiler = null)
    {
        Cache = cache;
        Blacklist = blacklist;
        BlacklistPrimary = sentinels;
        LogConnectionEvents(cache, CacheName, loggers);
        LogConnectionEvents(blacklist, BlacklistName, loggers);
        if (sentinels is not null)
        {
            // WAIT blocks the connection it runs on for up to its timeout while replicas lag: on its own connection it
            // holds up only other revocation writes, never the checks, the resync or the health checks on Blacklist.
            var writes = options.Get(BlacklistName).Clone();
            writes.ClientName = ClientName(instance.Code, BlacklistWritesName);
            BlacklistWrites = ConnectionMultiplexer.Connect(writes);
            LogConnectionEvents(BlacklistWrites, BlacklistWritesName, loggers);
            sentinels.ConfirmWith(blacklist);
        }
        foreach (var connection in new[] { cache, blacklist, BlacklistWrites })
        {
            if (connection is not null)
            {
                profiler?.Register(connection);
            }
        }
    }

    /// <summary>With the HA shared store (a Sentinel connection string): the primary its Sentinels name; else null.</summary>
    public SentinelPrimary? BlacklistPrimary { get; }

    public IConnectionMultiplexer Cache { get; }
    public IConnectionMultiplexer Blacklist { get; }

    /// <summary>With the HA shared store: the data nodes again, on connections of their own for the revocation script and its WAIT; else null.</summary>
    public IConnectionMultiplexer? BlacklistWrites { get; }

    public IConnectionMultiplexer Get(string name) => name == BlacklistName ? Blacklist : Cache;

    /// <summary>CLIENT SETNAME of a backend's connections, so `CLIENT LIST` tells which backend is connected (and subscribed).</summary>
    public static string ClientName(string instanceCode, string store) => $"dive-backend-{instanceCode.ToLowerInvariant()}-{store}";

    public void Dispose() => BlacklistWrites?.Dispose();

    private static void LogConnectionEvents(IConnectionMultiplexer connection, string store, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger($"DiveAspire.Redis.{store}");
        // Endpoint only: the configuration string would include the password.
        connection.ConnectionFailed += (_, e) => logger.LogWarning("Redis '{Store}' connection to {Endpoint} lost: {FailureType}", store, e.EndPoint, e.FailureType);
        connection.ConnectionRestored += (_, e) => logger.LogInformation("Redis '{Store}' connection to {Endpoint} restored", store, e.EndPoint);
    }
}
