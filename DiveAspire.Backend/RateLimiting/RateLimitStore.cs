using DiveAspire.Backend.Metrics;
using DiveAspire.Backend.Redis;
using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>
/// Where the fixed windows live: the instance's own Redis, or process memory while that Redis fails. The first request
/// that meets a failed Redis is already answered from memory; <see cref="RateLimitStoreMonitor"/> switches back once
/// Redis answers again. Each switch is logged once.
/// </summary>
public sealed class RateLimitStore
{
    public const string RedisName = "redis";
    public const string MemoryName = "memory";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(1);

    private readonly RedisStores _redis;
    private readonly MemoryWindows _memory;
    private readonly ILogger<RateLimitStore> _logger;
    private readonly bool _pinnedToMemory;
    private readonly SharedDeadline _deadline = new(CommandTimeout);
    private volatile bool _usingMemory;

    public RateLimitStore(RedisStores redis, TimeProvider clock, ILogger<RateLimitStore> logger, RateLimitSettings settings)
    {
        _redis = redis;
        _memory = new MemoryWindows(clock);
        _logger = logger;
        if (settings.Mode != RateLimitStoreMode.Redis)
        {
            _pinnedToMemory = _usingMemory = settings.Mode == RateLimitStoreMode.Memory;
            _logger.LogWarning("Dive:RateLimits:Store={Mode}: rate limits are {What}. This setting exists only for benchmarks.",
                settings.Mode.ToString().ToLowerInvariant(), settings.Mode == RateLimitStoreMode.Off ? "NOT enforced" : "kept in this process only");
        }
        Publish();
    }

    public string Active => _usingMemory ? MemoryName : RedisName;

    /// <summary>Applies one request to the window of <paramref name="call"/> (its key: see <see cref="RateLimitPolicies.KeyPrefix"/>).</summary>
    /// <param name="refusedLately">the window refused this client's last request (only the script's cost depends on it).</param>
    public ValueTask<WindowResult> ApplyAsync(FixedWindow.Call call, WindowMode mode, bool refusedLately = false)
    {
        if (_usingMemory)
        {
            return new(_memory.Apply(call.Key, call.Rule, mode));
        }
        var connection = _redis.Cache;
        if (!connection.IsConnected)
        {
            // A command on a disconnected multiplexer would wait in its backlog until the timeout; fail over now.
            UseMemory(new RedisConnectionException(ConnectionFailureType.UnableToConnect, "the instance's Redis is not connected"));
            return new(_memory.Apply(call.Key, call.Rule, mode));
        }
        var db = connection.GetDatabase();
        var arguments = call.Arguments(mode, refusedLately);
        Task<RedisResult> pending;
        try
        {
            pending = FixedWindow.StartAsync(db, call, arguments);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            UseMemory(ex);
            return new(_memory.Apply(call.Key, call.Rule, mode));
        }
        return ApplyInRedisOrMemoryAsync(db, pending, call, arguments, mode);
    }

    /// <summary>
    /// The synchronous fast path while windows are in memory: true and the result when the request is admitted (and
    /// counted); false when Redis is in use or the request would be rejected (a rejection counts nothing).
    /// </summary>
    public bool TryAdmitInMemory(FixedWindow.Call call, WindowMode mode, out WindowResult result)
    {
        result = _usingMemory ? _memory.Apply(call.Key, call.Rule, mode) : default;
        return result.Admitted;
    }

    // Pooled: the limiter's caller (ASP.NET Core's rate-limiting middleware) awaits the result once, so the state machine
    // is reused rather than allocated for every request. A reply still on its way is waited for until CommandTimeout
    // (give or take the shared deadline's slot).
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WindowResult> ApplyInRedisOrMemoryAsync(IDatabaseAsync db, Task<RedisResult> pending, FixedWindow.Call call, RedisValue[] arguments, WindowMode mode)
    {
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    if (!pending.IsCompleted && await Task.WhenAny(pending, _deadline.Current) != pending)
                    {
                        throw new TimeoutException($"the instance's Redis did not answer within {CommandTimeout.TotalSeconds:0.##} s");
                    }
                    return FixedWindow.Parse(await pending);
                }
                catch (Exception ex) when (attempt == 0 && FixedWindow.IsNoScript(ex))
                {
                    pending = FixedWindow.SendScriptAsync(db, call, arguments);
                }
            }
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            UseMemory(ex);
        }
        return _memory.Apply(call.Key, call.Rule, mode);
    }

    /// <summary>Called by the monitor: true when Redis is in use again (or still).</summary>
    public async Task<bool> TryReturnToRedisAsync()
    {
        if (!_usingMemory)
        {
            return true;
        }
        if (_pinnedToMemory)
        {
            return false;
        }
        try
        {
            if (!_redis.Cache.IsConnected)
            {
                return false;
            }
            await _redis.Cache.GetDatabase().PingAsync().WaitAsync(CommandTimeout);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            return false;
        }
        _usingMemory = false;
        Publish();
        _logger.LogInformation("Rate limiting is back on the instance's Redis");
        return true;
    }

    /// <summary>Client keys with a live window, per limiter type (SCAN, never KEYS).</summary>
    public async Task<Dictionary<string, List<string>>> ActiveKeysAsync(CancellationToken ct)
    {
        var result = new Dictionary<string, List<string>>();
        foreach (var type in RateLimitPolicies.All)
        {
            var prefix = RateLimitPolicies.KeyPrefix(type);
            result[type] = _usingMemory
                ? [.. _memory.LiveKeys(prefix).Select(k => k[prefix.Length..])]
                : await ScanAsync(RedisPattern.Escape(prefix) + "*", ct).Select(k => k[prefix.Length..]).ToListAsync(ct);
        }
        return result;
    }

    /// <summary>Deletes every window of one client IP (anonymous and authenticated keys) in both stores.</summary>
    public async Task<int> ResetAsync(string ip, CancellationToken ct)
    {
        var deleted = _memory.Remove(key => key.EndsWith(":" + ip, StringComparison.Ordinal) && RateLimitPolicies.All.Any(t => key.StartsWith(RateLimitPolicies.KeyPrefix(t), StringComparison.Ordinal)));
        if (_usingMemory)
        {
            return deleted;
        }
        var db = _redis.Cache.GetDatabase();
        foreach (var type in RateLimitPolicies.All)
        {
            var prefix = RedisPattern.Escape(RateLimitPolicies.KeyPrefix(type));
            var ipPattern = RedisPattern.Escape(ip);
            var keys = await ScanAsync(prefix + ipPattern, ct).Concat(ScanAsync(prefix + "*:" + ipPattern, ct)).Distinct().ToArrayAsync(ct);
            if (keys.Length > 0)
            {
                deleted += (int)await db.KeyDeleteAsync([.. keys.Select(k => (RedisKey)k)]);
            }
        }
        return deleted;
    }

    private async IAsyncEnumerable<string> ScanAsync(string pattern, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var endpoint in _redis.Cache.GetEndPoints())
        {
            await foreach (var key in _redis.Cache.GetServer(endpoint).KeysAsync(pattern: pattern, pageSize: 500).WithCancellation(ct))
            {
                yield return key.ToString();
            }
        }
    }

    private void UseMemory(Exception ex)
    {
        if (_usingMemory)
        {
            return;
        }
        _usingMemory = true;
        Publish();
        _logger.LogWarning("Rate limiting switched to in-memory windows: the instance's Redis failed ({Reason})", ex.GetType().Name);
    }

    private void Publish()
    {
        DiveMetrics.RateLimitStore.WithLabels(RedisName).Set(_usingMemory ? 0 : 1);
        DiveMetrics.RateLimitStore.WithLabels(MemoryName).Set(_usingMemory ? 1 : 0);
    }

    /// <summary>The instance's Redis failed (<see cref="RedisFailures"/>), or its multiplexer is disposed (the host is stopping).</summary>
    public static bool IsRedisFailure(Exception ex) => RedisFailures.Is(ex) || ex is ObjectDisposedException;
}
