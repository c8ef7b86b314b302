using StackExchange.Redis;

namespace DiveAspire.Backend.Redis;

/// <summary>
/// The backend's two Redis connections: <see cref="Cache"/> (this instance's own Redis) and
/// <see cref="Blacklist"/> (the federation's shared revocation store). Connections never abort on failure:
/// the multiplexer keeps reconnecting in the background, so a Redis that comes back is used again without a restart.
/// </summary>
public sealed class RedisStores : IAsyncDisposable
{
    public const string CacheName = "cache";
    public const string BlacklistName = "blacklist";

    public RedisStores(IConfiguration config, ILoggerFactory loggers, Instance.InstanceInfo instance)
    {
        Cache = Connect(config, CacheName, loggers, instance);
        BlacklistPrimary = SentinelPrimary.For(config.GetConnectionString(BlacklistName), loggers);
        Blacklist = Connect(config, BlacklistName, loggers, instance, BlacklistPrimary);
    }

    /// <summary>With the HA shared store (a Sentinel connection string): the primary its Sentinels name; else null.</summary>
    public SentinelPrimary? BlacklistPrimary { get; }

    public IConnectionMultiplexer Cache { get; }
    public IConnectionMultiplexer Blacklist { get; }

    public IConnectionMultiplexer Get(string name) => name == BlacklistName ? Blacklist : Cache;

    /// <summary>CLIENT SETNAME of a backend's connections, so `CLIENT LIST` tells which backend is connected (and subscribed).</summary>
    public static string ClientName(string instanceCode, string store) => $"dive-backend-{instanceCode.ToLowerInvariant()}-{store}";

    private static ConnectionMultiplexer Connect(IConfiguration config, string name, ILoggerFactory loggers, Instance.InstanceInfo instance, SentinelPrimary? sentinels = null)
    {
        var connectionString = config.GetConnectionString(name)
            ?? throw new InvalidOperationException($"Connection string '{name}' is not configured (the AppHost sets ConnectionStrings__{name}).");
        var options = ConfigurationOptions.Parse(connectionString);
        options = sentinels?.DataNodeOptions(options) ?? options;
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        options.SyncTimeout = 2000;
        options.AsyncTimeout = 2000;
        options.ReconnectRetryPolicy = new LinearRetry(500);
        options.ClientName = ClientName(instance.Code, name);
        var connection = ConnectionMultiplexer.Connect(options);
        var logger = loggers.CreateLogger($"DiveAspire.Redis.{name}");
        // Endpoint only: the configuration string would include the password.
        connection.ConnectionFailed += (_, e) => logger.LogWarning("Redis '{Store}' connection to {Endpoint} lost: {FailureType}", name, e.EndPoint, e.FailureType);
        connection.ConnectionRestored += (_, e) => logger.LogInformation("Redis '{Store}' connection to {Endpoint} restored", name, e.EndPoint);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        await Cache.DisposeAsync();
        await Blacklist.DisposeAsync();
        if (BlacklistPrimary is not null)
        {
            await BlacklistPrimary.DisposeAsync();
        }
    }
}
