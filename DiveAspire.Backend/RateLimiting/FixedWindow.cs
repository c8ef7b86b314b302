using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace DiveAspire.Backend.RateLimiting;

public enum WindowMode
{
    /// <summary>Admit and count the request if the window has room; a rejected request is not counted.</summary>
    Hit,
    /// <summary>Give back one admitted request's count (auth: a request that did not fail counts nothing).</summary>
    Refund,
}

public readonly record struct WindowResult(long Count, TimeSpan ResetAfter, bool Admitted)
{
    public long Remaining(LimitRule rule) => Math.Max(0, rule.Max - Count);
}

/// <summary>
/// The fixed-window algorithm as one Redis Lua script. A script runs atomically on the Redis server, so replicas sharing
/// the instance's Redis can never admit more than Max per window together, whatever their concurrency.
/// </summary>
public static class FixedWindow
{
    // KEYS[1] counter; ARGV[1] max; ARGV[2] window ms; ARGV[3] mode. Returns {count, ttl ms, admitted}.
    public const string Script = """
        local count = tonumber(redis.call('GET', KEYS[1]) or '0')
        local ttl = redis.call('PTTL', KEYS[1])
        local max = tonumber(ARGV[1])
        local mode = ARGV[3]
        if ttl < 0 then ttl = tonumber(ARGV[2]) end
        if mode == 'Refund' then
          if count > 0 then count = redis.call('DECR', KEYS[1]) end
          return {count, ttl, 1}
        end
        if count >= max then
          return {count, ttl, 0}
        end
        count = redis.call('INCR', KEYS[1])
        if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          ttl = tonumber(ARGV[2])
        end
        return {count, ttl, 1}
        """;

    // SHA1 of the script: EVALSHA sends 40 bytes instead of the script and spares Redis hashing it on every request.
    private static readonly byte[] ScriptSha1 = SHA1.HashData(Encoding.UTF8.GetBytes(Script));
    private static readonly RedisValue[] ModeArguments = [nameof(WindowMode.Hit), nameof(WindowMode.Refund)];

    /// <summary>
    /// Runs the script by its SHA1. Redis answers NOSCRIPT when its script cache is empty (first use, restart, SCRIPT
    /// FLUSH): then the script is sent in full once, which caches it again.
    /// </summary>
    public static async Task<RedisResult> EvaluateAsync(IDatabaseAsync db, string key, LimitRule rule, WindowMode mode)
    {
        RedisKey[] keys = [key];
        RedisValue[] arguments = [rule.Max, (long)rule.Window.TotalMilliseconds, ModeArguments[(int)mode]];
        try
        {
            return await db.ScriptEvaluateAsync(ScriptSha1, keys, arguments);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await db.ScriptEvaluateAsync(Script, keys, arguments);
        }
    }
}
