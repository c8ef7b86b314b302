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
    // 'Hit' counts first (INCR, then PTTL: two calls for an admission) and takes the count back when over the limit, so
    // no one ever sees more than max; 'Check' is the same decision for a client refused lately: it reads first (GET, PTTL),
    // so that a flood of rejections writes nothing. The TTL is set once per window (and on a counter found without one).
    public const string Script = """
        local key = KEYS[1]
        local window = tonumber(ARGV[2])
        local mode = ARGV[3]
        local count
        if mode == 'Hit' then
          count = redis.call('INCR', key)
          if count > tonumber(ARGV[1]) then
            count = redis.call('DECR', key)
            local ttl = redis.call('PTTL', key)
            if ttl < 0 then ttl = window end
            return {count, ttl, 0}
          end
        else
          count = tonumber(redis.call('GET', key) or '0')
          if mode == 'Refund' then
            if count > 0 then count = redis.call('DECR', key) end
            local ttl = redis.call('PTTL', key)
            if ttl < 0 then ttl = window end
            return {count, ttl, 1}
          end
          if count >= tonumber(ARGV[1]) then
            local ttl = redis.call('PTTL', key)
            if ttl < 0 then ttl = window end
            return {count, ttl, 0}
          end
          count = redis.call('INCR', key)
        end
        if count == 1 then
          redis.call('PEXPIRE', key, window)
          return {1, window, 1}
        end
        local ttl = redis.call('PTTL', key)
        if ttl < 0 then
          redis.call('PEXPIRE', key, window)
          ttl = window
        end
        return {count, ttl, 1}
        """;

    // SHA1 of the script: EVALSHA sends 40 bytes instead of the script and spares Redis hashing it on every request.
    private static readonly byte[] ScriptSha1 = SHA1.HashData(Encoding.UTF8.GetBytes(Script));

    /// <summary>
    /// One window's script arguments, built once per limiter (key and rule are fixed), not per request. Read-only once
    /// built: StackExchange.Redis only reads them.
    /// </summary>
    public sealed class Call(string key, LimitRule rule)
    {
        private readonly RedisValue[][] _arguments = [.. new[] { "Hit", "Check", nameof(WindowMode.Refund) }
            .Select(mode => new RedisValue[] { rule.Max, (long)rule.Window.TotalMilliseconds, mode })];

        public string Key => key;
        public LimitRule Rule => rule;
        public RedisKey[] Keys { get; } = [key];

        /// <param name="refusedLately">the window refused this client's last request: decide without writing first.</param>
        public RedisValue[] Arguments(WindowMode mode, bool refusedLately) =>
            _arguments[mode == WindowMode.Refund ? 2 : refusedLately ? 1 : 0];
    }

    /// <summary>Sends the script by its SHA1 (see <see cref="IsNoScript"/> for an empty script cache).</summary>
    public static Task<RedisResult> StartAsync(IDatabaseAsync db, Call call, RedisValue[] arguments) =>
        db.ScriptEvaluateAsync(ScriptSha1, call.Keys, arguments);

    /// <summary>
    /// Redis answers NOSCRIPT when its script cache is empty (first use, restart, SCRIPT FLUSH): then the script is sent
    /// in full once, which caches it again.
    /// </summary>
    public static bool IsNoScript(Exception ex) => ex is RedisServerException && ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);

    public static Task<RedisResult> SendScriptAsync(IDatabaseAsync db, Call call, RedisValue[] arguments) =>
        db.ScriptEvaluateAsync(Script, call.Keys, arguments);

    public static WindowResult Parse(RedisResult reply)
    {
        var result = (RedisResult[])reply!;
        return new WindowResult((long)result[0], TimeSpan.FromMilliseconds((long)result[1]), (long)result[2] == 1);
    }
}
