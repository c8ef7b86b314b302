using DiveAspire.Cli.Connections;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Cli.Operations;

/// <summary>
/// The Redis operations behind both `dive redis ...` and the dashboard's resource commands, so the two cannot
/// drift apart. Every failure is a <see cref="CliException"/> with one line and no secret.
/// </summary>
public static class RedisOperations
{
    public const double MemoryLimitRatio = 0.8;

    public static async Task<RedisStatus> StatusAsync(RedisTarget target, CancellationToken ct = default)
    {
        await using var connection = await RedisConnector.ConnectAsync(target, ct).ConfigureAwait(false);
        var info = await InfoAsync(connection, target, ct).ConfigureAwait(false);
        return new RedisStatus(
            target.Name,
            target.Label,
            target.Endpoint,
            Reachable: true,
            info.String("redis_version"),
            info.String("role"),
            info.Long("uptime_in_seconds"),
            info.Long("used_memory"),
            info.Long("maxmemory"),
            info.Long("connected_clients"),
            info.Long("maxclients"),
            info.Keys,
            info.Long("aof_enabled") == 1,
            info.String("maxmemory_policy"),
            LastError(info),
            target.User);
    }

    /// <summary>Like <see cref="StatusAsync"/>, but an unreachable Redis becomes a row with its error instead of an exception.</summary>
    public static async Task<RedisStatus> StatusOrErrorAsync(RedisTarget target, CancellationToken ct = default)
    {
        try
        {
            return await StatusAsync(target, ct).ConfigureAwait(false);
        }
        catch (CliException ex)
        {
            return new RedisStatus(target.Name, target.Label, target.Endpoint, Reachable: false, LastError: ex.Message, User: target.User);
        }
    }

    /// <summary>
    /// ping, memory below 80% of maxmemory, clients below maxclients, AOF on, an unauthenticated PING refused, the
    /// eviction policy the spec configures, and the ACL (<see cref="AclCheck"/>, as admin). With <paramref name="highAvailability"/>
    /// (the shared store run with Sentinels) also replication and quorum (<see cref="SentinelOperations.HealthChecksAsync"/>).
    /// </summary>
    public static async Task<RedisHealth> HealthAsync(RedisTarget target, CancellationToken ct = default, SentinelSetup? highAvailability = null)
    {
        await using var connection = await RedisConnector.ConnectAsync(target, ct).ConfigureAwait(false);
        var checks = new List<HealthCheck>();

        var pingTime = await connection.GetDatabase().PingAsync().WaitAsync(ct).ConfigureAwait(false);
        checks.Add(new("ping", true, $"PONG in {pingTime.TotalMilliseconds:0.0} ms"));

        var info = await InfoAsync(connection, target, ct).ConfigureAwait(false);
        var used = info.Long("used_memory");
        var max = info.Long("maxmemory");
        checks.Add(max <= 0
            ? new("memory", false, $"maxmemory is not set (unbounded; DIVE configures {target.Spec.MaxMemory})")
            : new("memory", used < max * MemoryLimitRatio,
                $"{Bytes(used)} of {Bytes(max)} used ({100.0 * used / max:0.0}%, limit {MemoryLimitRatio * 100:0}%)"));

        var clients = info.Long("connected_clients");
        var maxClients = info.Long("maxclients");
        checks.Add(new("clients", maxClients <= 0 || clients < maxClients, $"{clients} connected of maxclients {maxClients}"));

        var aof = info.Long("aof_enabled") == 1;
        checks.Add(new("aof", aof, aof ? $"appendonly yes, last write {info.String("aof_last_write_status") ?? "?"}" : "appendonly no: writes since the last RDB snapshot are lost on a crash"));

        checks.Add(await AuthCheckAsync(target, ct).ConfigureAwait(false));

        var policy = info.String("maxmemory_policy") ?? "?";
        checks.Add(new("eviction", policy == target.Spec.MaxMemoryPolicy, $"maxmemory-policy {policy} (expected {target.Spec.MaxMemoryPolicy})"));

        checks.Add(await AclCheck.RunAsync(target, ct).ConfigureAwait(false));

        if (highAvailability is not null)
        {
            checks.AddRange(await SentinelOperations.HealthChecksAsync(highAvailability, ct).ConfigureAwait(false));
        }

        return new RedisHealth(target.Name, target.Endpoint, checks);
    }

    public static async Task<RedisStats> StatsAsync(RedisTarget target, CancellationToken ct = default)
    {
        await using var connection = await RedisConnector.ConnectAsync(target, ct).ConfigureAwait(false);
        var info = await InfoAsync(connection, target, ct).ConfigureAwait(false);
        var hits = info.Long("keyspace_hits");
        var misses = info.Long("keyspace_misses");
        return new RedisStats(
            target.Name,
            target.Endpoint,
            info.Long("connected_clients"),
            info.Long("blocked_clients"),
            info.Long("total_connections_received"),
            info.Long("rejected_connections"),
            info.Long("total_commands_processed"),
            info.Long("instantaneous_ops_per_sec"),
            hits,
            misses,
            hits + misses == 0 ? null : Math.Round(100.0 * hits / (hits + misses), 2),
            info.Long("expired_keys"),
            info.Long("evicted_keys"),
            info.Keys,
            new RedisMemory(
                info.Long("used_memory"),
                info.Long("used_memory_rss"),
                info.Long("used_memory_peak"),
                info.Long("used_memory_dataset"),
                info.Long("used_memory_overhead"),
                info.Long("maxmemory"),
                info.Double("mem_fragmentation_ratio"),
                info.String("maxmemory_policy") ?? "?"));
    }

    /// <summary>Deletes every key of one instance's own Redis (FLUSHALL on that server only). Refuses the shared revocation store.</summary>
    public static async Task<FlushResult> FlushAsync(RedisTarget target, bool dryRun, CancellationToken ct = default)
    {
        EnsureNotRevocationStore(target.Spec);
        target = dryRun ? target : target.AsAdmin();
        await using var connection = await RedisConnector.ConnectAsync(target, ct).ConfigureAwait(false);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var before = (await InfoAsync(connection, target, ct).ConfigureAwait(false)).Keys;
        if (dryRun)
        {
            return new FlushResult(target.Name, target.Endpoint, before, before, DryRun: true);
        }
        await Guard(target, server.FlushAllDatabasesAsync()).ConfigureAwait(false);
        var after = (await InfoAsync(connection, target, ct).ConfigureAwait(false)).Keys;
        return new FlushResult(target.Name, target.Endpoint, before, after, DryRun: false);
    }

    public static void EnsureNotRevocationStore(RedisStoreSpec spec)
    {
        if (spec.Kind == RedisKind.TokenStore)
        {
            throw new CliException($"{spec.ResourceName} is the federation's shared revocation store and is never flushed: use 'dive redis blacklist clear' to remove revocations.", ExitCodes.Usage);
        }
    }

    /// <summary>Counts keys matching a pattern with SCAN (never KEYS, which blocks the server).</summary>
    public static async Task<long> CountAsync(IConnectionMultiplexer connection, string pattern, CancellationToken ct = default)
    {
        long count = 0;
        await foreach (var batch in ScanAsync(connection, pattern, ct).ConfigureAwait(false))
        {
            count += batch.Length;
        }
        return count;
    }

    /// <summary>SCAN cursor loop, one batch of keys per round trip.</summary>
    public static async IAsyncEnumerable<RedisKey[]> ScanAsync(IConnectionMultiplexer connection, string pattern,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var db = connection.GetDatabase();
        var cursor = "0";
        do
        {
            ct.ThrowIfCancellationRequested();
            var reply = (RedisResult[])(await db.ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", 1000).ConfigureAwait(false))!;
            cursor = (string)reply[0]!;
            var keys = (RedisKey[])reply[1]!;
            if (keys.Length > 0)
            {
                yield return keys;
            }
        }
        while (cursor != "0");
    }

    /// <summary>Deletes keys matching a pattern (SCAN + UNLINK in batches); returns how many were deleted, or would be with dryRun.</summary>
    public static async Task<long> DeleteMatchingAsync(IConnectionMultiplexer connection, string pattern, bool dryRun, CancellationToken ct = default)
    {
        long deleted = 0;
        var db = connection.GetDatabase();
        await foreach (var batch in ScanAsync(connection, pattern, ct).ConfigureAwait(false))
        {
            deleted += dryRun ? batch.Length : await db.KeyDeleteAsync(batch).ConfigureAwait(false);
        }
        return deleted;
    }

    internal static async Task<RedisInfo> InfoAsync(IConnectionMultiplexer connection, RedisTarget target, CancellationToken ct)
    {
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var raw = await Guard(target, server.InfoRawAsync()).WaitAsync(ct).ConfigureAwait(false);
        return RedisInfo.Parse(raw ?? "");
    }

    internal static async Task<T> Guard<T>(RedisTarget target, Task<T> command)
    {
        try
        {
            return await command.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw RedisConnector.Describe(target, ex);
        }
    }

    internal static async Task Guard(RedisTarget target, Task command)
    {
        try
        {
            await command.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw RedisConnector.Describe(target, ex);
        }
    }

    private static async Task<HealthCheck> AuthCheckAsync(RedisTarget target, CancellationToken ct)
    {
        try
        {
            var required = await RedisConnector.RequiresAuthenticationAsync(target, ct).ConfigureAwait(false);
            return new("auth", required, required ? "an unauthenticated PING is refused (NOAUTH)" : "an unauthenticated PING is answered: no password is required");
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or OperationCanceledException)
        {
            return new("auth", false, $"could not probe without a password ({ex.GetType().Name})");
        }
    }

    private static string? LastError(RedisInfo info)
    {
        var problems = new List<string>();
        if (info.String("aof_last_write_status") is { } aof && aof != "ok")
        {
            problems.Add($"AOF write {aof}");
        }
        if (info.String("rdb_last_bgsave_status") is { } rdb && rdb != "ok")
        {
            problems.Add($"RDB save {rdb}");
        }
        if (info.String("aof_last_bgrewrite_status") is { } rewrite && rewrite != "ok")
        {
            problems.Add($"AOF rewrite {rewrite}");
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.0} KiB",
        _ => $"{bytes} B",
    };

    public static string Duration(long seconds) => TimeSpan.FromSeconds(seconds) switch
    {
        { TotalDays: >= 1 } t => $"{(int)t.TotalDays}d {t.Hours}h",
        { TotalHours: >= 1 } t => $"{t.Hours}h {t.Minutes}m",
        { TotalMinutes: >= 1 } t => $"{t.Minutes}m {t.Seconds}s",
        var t => $"{t.Seconds}s",
    };
}
