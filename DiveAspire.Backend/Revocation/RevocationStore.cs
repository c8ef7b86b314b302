using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Metrics;
using DiveAspire.Backend.Redis;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// Reads and writes the shared revocation store (<see cref="RedisStores.Blacklist"/>). A revocation is one Lua script
/// (SET + PUBLISH per key, atomic) and is acknowledged only after Redis ran it (the store fsyncs every write), so an
/// acknowledged revocation is neither lost nor left unannounced. The longest expiry always wins: a key is only ever
/// lengthened, never shortened, and a key without TTL (a permanent revocation) is left as it is.
/// </summary>
public sealed class RevocationStore(
    RedisStores stores, RevocationCache cache, InstanceInfo instance, RevocationOptions options, TimeProvider clock, ILogger<RevocationStore> logger)
{
    /// <summary>The 503's message when the HA store's primary refuses a write for lack of a replica in sync.</summary>
    public const string NoReplicaInSync =
        "The shared revocation store has no replica in sync and refused the write; the revocation was not recorded. Retry.";

    /// <summary>The 503's message when the store, which never evicts, is at its maxmemory and refuses every write.</summary>
    public const string StoreFull =
        "The shared revocation store is full (maxmemory reached; it never evicts) and refused the write; the revocation was not recorded. Retry once an operator has made room.";

    /// <summary>
    /// Refusals of the whole script before it ran (its '#!lua' header declares it a writing script, so Redis checks these
    /// up front): nothing was recorded. The primary counting no replica within min-replicas-max-lag (HA store), or the
    /// store at its maxmemory.
    /// </summary>
    private static (string Reason, string Message)? Refusal(RedisServerException ex) =>
        ex.Message.StartsWith("NOREPLICAS", StringComparison.Ordinal) ? ("no replica is in sync (NOREPLICAS)", NoReplicaInSync)
        : ex.Message.StartsWith("OOM", StringComparison.Ordinal) ? ("it is full (OOM: maxmemory reached, noeviction)", StoreFull)
        : null;

    // For each key i: ARGV[4i-3] value, ARGV[4i-2] wanted TTL (ms), ARGV[4i-1] channel, ARGV[4i] message.
    // Returns each key's TTL in force afterwards (ms; -1 = no TTL). '#!lua' makes Redis refuse the whole script up front
    // when the store is out of memory, instead of failing half-way.
    private const string RevokeScript = """
        #!lua
        local ttls = {}
        for i, key in ipairs(KEYS) do
          local a = (i - 1) * 4
          local wanted = tonumber(ARGV[a + 2])
          local current = redis.call('PTTL', key)
          if current == -1 or current >= wanted then
            ttls[i] = current
          else
            redis.call('SET', key, ARGV[a + 1], 'PX', wanted)
            ttls[i] = wanted
          end
          redis.call('PUBLISH', ARGV[a + 3], ARGV[a + 4])
        end
        return ttls
        """;

    private readonly ReplicaAcknowledgements _acknowledgements = new();

    private IConnectionMultiplexer Connection => stores.Blacklist;

    /// <summary>
    /// HA shared store: the node the Sentinels name as primary, where every command goes (null: let the multiplexer
    /// choose, as with a single store). A deposed primary that resumes still calls itself primary for a few seconds.
    /// </summary>
    private IServer? PrimaryServer
    {
        get
        {
            if (stores.BlacklistPrimary?.Current is not { } endpoint)
            {
                return null;
            }
            try
            {
                return Connection.GetServer(endpoint);
            }
            catch (ArgumentException)
            {
                return null; // not one of the data nodes known at start
            }
        }
    }

    /// <summary>The revocation script and its WAIT: on the write connection (HA), never the one checks and resyncs use.</summary>
    private IServer? PrimaryWriteServer =>
        stores.BlacklistPrimary?.Current is { } endpoint && stores.BlacklistWrites is { } writes && writes.GetEndPoints().Contains(endpoint)
            ? writes.GetServer(endpoint)
            : null;

    private Task<RedisResult> ExecuteAsync(IServer? server, string command, params object[] args) =>
        server is null ? Connection.GetDatabase().ExecuteAsync(command, args) : server.ExecuteAsync(command, args);

    public bool IsConnected => Connection.IsConnected;

    /// <summary>
    /// Revokes one token until it expires plus the validation clock skew and a margin (at least 60 s). The expiry is
    /// capped at now + <see cref="RevocationOptions.MaxTokenLifetime"/>: the revocation check refuses any token that
    /// would live longer, so the cap never lets a revoked token back in.
    /// </summary>
    public async Task<RevocationRecord> RevokeTokenAsync(string jti, DateTimeOffset? tokenExpiresAt, string? reason, string? relayedBy = null)
    {
        var now = clock.GetUtcNow();
        var records = await RevokeAsync([new(RevocationKind.Token, jti, TokenTtl(tokenExpiresAt, now))], reason, now, relayedBy);
        return records[0];
    }

    /// <summary>Revokes every token of a user for <paramref name="ttl"/> (900 s by default), or longer if already revoked longer.</summary>
    public async Task<RevocationRecord> RevokeUserAsync(string userId, TimeSpan? ttl, string? reason, string? relayedBy = null)
    {
        var records = await RevokeAsync([new(RevocationKind.User, userId, ttl ?? RevocationKeys.DefaultUserTtl)], reason, clock.GetUtcNow(), relayedBy);
        return records[0];
    }

    /// <summary>Logout: this token and all of the user's tokens, in one script (both or neither).</summary>
    public Task<IReadOnlyList<RevocationRecord>> RevokeSessionAsync(string? jti, DateTimeOffset? tokenExpiresAt, string userId, string? reason, string? relayedBy = null)
    {
        var now = clock.GetUtcNow();
        var targets = new List<RevocationTarget> { new(RevocationKind.User, userId, RevocationKeys.DefaultUserTtl) };
        if (jti is not null)
        {
            targets.Insert(0, new(RevocationKind.Token, jti, TokenTtl(tokenExpiresAt, now)));
        }
        return RevokeAsync(targets, reason, now, relayedBy);
    }

    private TimeSpan TokenTtl(DateTimeOffset? tokenExpiresAt, DateTimeOffset now)
    {
        var longest = now + options.MaxTokenLifetime;
        return RevocationKeys.TokenTtl(tokenExpiresAt is { } exp && exp > longest ? longest : tokenExpiresAt, now);
    }

    private sealed record RevocationTarget(RevocationKind Kind, string Identifier, TimeSpan Ttl);

    /// <param name="relayedBy">The remote spoke that relayed the request (<see cref="RelayCredentials"/>): the record's <c>revokedByInstance</c>.</param>
    private async Task<IReadOnlyList<RevocationRecord>> RevokeAsync(IReadOnlyList<RevocationTarget> targets, string? reason, DateTimeOffset now, string? relayedBy)
    {
        reason = string.IsNullOrWhiteSpace(reason) ? RevocationKeys.DefaultReason : reason;
        var revokedBy = relayedBy ?? instance.Code;
        EnsureConnected();
        var keys = new RedisKey[targets.Count];
        var args = new RedisValue[targets.Count * 4];
        for (var i = 0; i < targets.Count; i++)
        {
            var target = targets[i];
            var message = new RevocationMessage(
                target.Kind == RevocationKind.Token ? RevocationMessage.TokenType : RevocationMessage.UserType,
                target.Identifier, reason, instance.Code, now);
            keys[i] = RevocationKeys.Key(target.Kind, target.Identifier);
            args[i * 4] = new RevocationRecord(now, reason, now + target.Ttl, revokedBy).ToJson();
            args[i * 4 + 1] = (long)Math.Ceiling(target.Ttl.TotalMilliseconds);
            args[i * 4 + 2] = RevocationKeys.Channel(target.Kind);
            args[i * 4 + 3] = message.ToJson();
        }

        long[] inForce;
        try
        {
            inForce = stores.BlacklistPrimary is null
                ? (long[])(await Connection.GetDatabase().ScriptEvaluateAsync(RevokeScript, keys, args))!
                : await RevokeOnPrimaryAsync(keys, args);
        }
        catch (RedisServerException ex) when (Refusal(ex) is { } refusal)
        {
            logger.LogWarning("A revocation was refused by the shared store: {Reason}", refusal.Reason);
            throw new RevocationStoreUnavailableException(refusal.Message, ex);
        }
        catch (Exception ex) when (RedisFailures.Is(ex) || ex is RedisCommandException or InvalidCastException)
        {
            // RedisCommandException: a primary-only command for a node the multiplexer still sees as a replica (failover).
            logger.LogWarning("A revocation was not acknowledged by the shared store: {Error}", ex.GetType().Name);
            throw new RevocationStoreUnavailableException("The shared revocation store is unreachable; the revocation was not recorded. Retry.", ex);
        }
        catch (ReplicaAcknowledgementException ex)
        {
            logger.LogWarning("A revocation was not acknowledged by the shared store: {Error}", ex.Message);
            throw new RevocationStoreUnavailableException("The shared revocation store did not confirm the revocation on a replica; it may not be recorded. Retry.", ex);
        }

        var records = new List<RevocationRecord>(targets.Count);
        for (var i = 0; i < targets.Count; i++)
        {
            var expiresAt = ExpiryOf(inForce[i], now) ?? now + targets[i].Ttl;
            records.Add(new RevocationRecord(now, reason, expiresAt, revokedBy));
            cache.Add(targets[i].Kind, targets[i].Identifier, expiresAt);
            DiveMetrics.RevocationsPublished.WithLabels(targets[i].Kind == RevocationKind.Token ? "token" : "user").Inc();
        }
        return records;
    }

    /// <summary>
    /// HA shared store: the script on the primary, then <c>WAIT 1</c> on the same connection (the write connection, so
    /// a WAIT held up by slow replicas delays no check, resync or health check; one WAIT for every script completed
    /// before it: <see cref="ReplicaAcknowledgements"/>): acknowledged only once a
    /// replica has the write, so a failover cannot discard it (the primary itself refuses writes without a live replica:
    /// min-replicas-to-write). No replica within the bound is a 503; the write may still replicate, and a revocation
    /// recorded without acknowledgement is harmless.
    /// </summary>
    private async Task<long[]> RevokeOnPrimaryAsync(RedisKey[] keys, RedisValue[] args)
    {
        // Never through the multiplexer's choice here: the script and WAIT could land on two nodes, and a WAIT on a
        // connection that wrote nothing confirms at once.
        var server = PrimaryWriteServer ?? throw new ReplicaAcknowledgementException("the Sentinels have not named a primary this backend knows");
        if (!server.IsConnected)
        {
            // The primary is gone (kill -9, crash) and the Sentinels have not named another yet: 503 now, not after the
            // command timeout, so that the first logout after the failover is not stuck behind one sent before it.
            throw new ReplicaAcknowledgementException($"the primary {server.EndPoint} is not connected");
        }
        var inForce = (long[])(await ExecuteAsync(server, "EVAL", [RevokeScript, keys.Length, .. keys.Cast<object>(), .. args.Cast<object>()]))!;
        var timeout = BlacklistHighAvailability.Default.ReplicaAcknowledgementTimeout;
        var replicas = await _acknowledgements.WaitAsync(server, 1, timeout);
        return replicas >= 1 ? inForce : throw new ReplicaAcknowledgementException($"no replica confirmed the write within {timeout.TotalMilliseconds} ms");
    }

    private sealed class ReplicaAcknowledgementException(string message) : Exception(message);

    /// <summary>When a key ends from its PTTL reply: -1 (no TTL) is for ever, -2 (no key) is null.</summary>
    private static DateTimeOffset? ExpiryOf(long pttl, DateTimeOffset now) => pttl switch
    {
        -1 => DateTimeOffset.MaxValue,
        < 0 => null,
        _ => now + TimeSpan.FromMilliseconds(pttl),
    };

    /// <summary>Whether the store holds a live revocation (authoritative, one round trip).</summary>
    public async Task<bool> ExistsAsync(RevocationKind kind, string identifier)
    {
        EnsureConnected();
        try
        {
            return (long)await ExecuteAsync(PrimaryServer, "EXISTS", (RedisKey)RevocationKeys.Key(kind, identifier)) == 1;
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            throw new RevocationStoreUnavailableException("The shared revocation store is unreachable.", ex);
        }
    }

    /// <summary>When a key ends (<see cref="DateTimeOffset.MaxValue"/> without TTL), or null when the key no longer exists.</summary>
    public async Task<DateTimeOffset?> ExpiryAsync(RevocationKind kind, string identifier)
    {
        var pttl = (long)(await ExecuteAsync(PrimaryServer, "PTTL", (RedisKey)RevocationKeys.Key(kind, identifier)));
        return ExpiryOf(pttl, clock.GetUtcNow());
    }

    /// <summary>
    /// The node a resync reads, taken once for all its steps: with HA the node the Sentinels name now (the primary may
    /// change during the scan); null with a single store (the multiplexer's choice).
    /// </summary>
    public IServer? ScanTarget => PrimaryServer;

    /// <summary>
    /// Whether <paramref name="node"/> (a <see cref="ScanTarget"/>) is the store's primary: always with a single store;
    /// with HA, when that very node answers ROLE "master" (a snapshot of anything else may lack revocations).
    /// </summary>
    public async Task<bool> IsPrimaryAsync(IServer? node)
    {
        if (stores.BlacklistPrimary is null)
        {
            return true;
        }
        try
        {
            return node is not null && (await node.RoleAsync()).Value == "master";
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            return false;
        }
    }

    /// <summary>Every live revocation of one kind on <paramref name="node"/> (a <see cref="ScanTarget"/>) with its expiry, found with SCAN (never KEYS) and pipelined PTTLs.</summary>
    public async Task<Dictionary<string, DateTimeOffset>> SnapshotAsync(RevocationKind kind, IServer? node, CancellationToken ct)
    {
        EnsureConnected();
        var prefix = kind == RevocationKind.Token ? RevocationKeys.TokenPrefix : RevocationKeys.UserPrefix;
        var result = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        try
        {
            await foreach (var batch in ScanAsync(node, prefix + "*", ct))
            {
                // PTTL, not TTL helpers: a key without TTL (-1) is a permanent revocation, enforced like /check reports it.
                var ttls = batch.Select(key => ExecuteAsync(node, "PTTL", (RedisKey)key)).ToArray();
                var now = clock.GetUtcNow();
                for (var i = 0; i < batch.Count; i++)
                {
                    if (ExpiryOf((long)await ttls[i], now) is { } expiresAt)
                    {
                        result[batch[i][prefix.Length..]] = expiresAt;
                    }
                }
            }
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            throw new RevocationStoreUnavailableException("The shared revocation store is unreachable.", ex);
        }
        return result;
    }

    /// <summary>How many keys match each kind (SCAN; the store is never blocked by KEYS).</summary>
    public async Task<int> CountAsync(RevocationKind kind, CancellationToken ct)
    {
        EnsureConnected();
        var prefix = kind == RevocationKind.Token ? RevocationKeys.TokenPrefix : RevocationKeys.UserPrefix;
        var count = 0;
        try
        {
            await foreach (var batch in ScanAsync(PrimaryServer, prefix + "*", ct))
            {
                count += batch.Count;
            }
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            throw new RevocationStoreUnavailableException("The shared revocation store is unreachable.", ex);
        }
        return count;
    }

    private async IAsyncEnumerable<List<string>> ScanAsync(IServer? server, string pattern, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var cursor = "0";
        do
        {
            ct.ThrowIfCancellationRequested();
            var reply = (RedisResult[])(await ExecuteAsync(server, "SCAN", cursor, "MATCH", pattern, "COUNT", 1000))!;
            cursor = (string)reply[0]!;
            var keys = ((RedisResult[])reply[1]!).Select(k => (string)k!).ToList();
            if (keys.Count > 0)
            {
                yield return keys;
            }
        }
        while (cursor != "0");
    }

    /// <summary>Fail fast instead of letting the multiplexer queue a command for its whole timeout.</summary>
    private void EnsureConnected()
    {
        if (!Connection.IsConnected)
        {
            throw new RevocationStoreUnavailableException("The shared revocation store is unreachable.");
        }
    }
}
