using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Metrics;
using DiveAspire.Backend.Redis;
using StackExchange.Redis;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// Reads and writes the shared revocation store (<see cref="RedisStores.Blacklist"/>). A revocation is acknowledged
/// only after Redis ran SET + PUBLISH in one MULTI/EXEC (the store fsyncs every write), so an acknowledged
/// revocation is neither lost nor left unannounced.
/// </summary>
public sealed class RevocationStore(RedisStores stores, RevocationCache cache, InstanceInfo instance, TimeProvider clock, ILogger<RevocationStore> logger)
{
    private IConnectionMultiplexer Connection => stores.Blacklist;

    public bool IsConnected => Connection.IsConnected;

    /// <summary>Revokes one token until it expires (at least 60 s).</summary>
    public async Task<RevocationRecord> RevokeTokenAsync(string jti, DateTimeOffset? tokenExpiresAt, string? reason)
    {
        var now = clock.GetUtcNow();
        var records = await RevokeAsync([new(RevocationKind.Token, jti, RevocationKeys.TokenTtl(tokenExpiresAt, now))], reason, now);
        return records[0];
    }

    /// <summary>Revokes every token of a user for <paramref name="ttl"/> (900 s by default).</summary>
    public async Task<RevocationRecord> RevokeUserAsync(string userId, TimeSpan? ttl, string? reason)
    {
        var records = await RevokeAsync([new(RevocationKind.User, userId, ttl ?? RevocationKeys.DefaultUserTtl)], reason, clock.GetUtcNow());
        return records[0];
    }

    /// <summary>Logout: this token and all of the user's tokens, in one transaction (both or neither).</summary>
    public Task<IReadOnlyList<RevocationRecord>> RevokeSessionAsync(string? jti, DateTimeOffset? tokenExpiresAt, string userId, string? reason)
    {
        var now = clock.GetUtcNow();
        var targets = new List<RevocationTarget> { new(RevocationKind.User, userId, RevocationKeys.DefaultUserTtl) };
        if (jti is not null)
        {
            targets.Insert(0, new(RevocationKind.Token, jti, RevocationKeys.TokenTtl(tokenExpiresAt, now)));
        }
        return RevokeAsync(targets, reason, now);
    }

    private sealed record RevocationTarget(RevocationKind Kind, string Identifier, TimeSpan Ttl);

    private async Task<IReadOnlyList<RevocationRecord>> RevokeAsync(IReadOnlyList<RevocationTarget> targets, string? reason, DateTimeOffset now)
    {
        reason = string.IsNullOrWhiteSpace(reason) ? RevocationKeys.DefaultReason : reason;
        EnsureConnected();
        var transaction = Connection.GetDatabase().CreateTransaction();
        var records = new List<RevocationRecord>();
        foreach (var target in targets)
        {
            var record = new RevocationRecord(now, reason, now + target.Ttl, instance.Code);
            var message = new RevocationMessage(
                target.Kind == RevocationKind.Token ? RevocationMessage.TokenType : RevocationMessage.UserType,
                target.Identifier, reason, instance.Code, now);
            _ = transaction.StringSetAsync(RevocationKeys.Key(target.Kind, target.Identifier), record.ToJson(), target.Ttl);
            _ = transaction.PublishAsync(RedisChannel.Literal(RevocationKeys.Channel(target.Kind)), message.ToJson());
            records.Add(record);
        }

        bool committed;
        try
        {
            committed = await transaction.ExecuteAsync();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("A revocation was not acknowledged by the shared store: {Error}", ex.GetType().Name);
            throw new RevocationStoreUnavailableException("The shared revocation store is unreachable; the revocation was not recorded. Retry.", ex);
        }
        if (!committed)
        {
            throw new RevocationStoreUnavailableException("The shared revocation store did not commit the revocation. Retry.");
        }

        for (var i = 0; i < targets.Count; i++)
        {
            cache.Add(targets[i].Kind, targets[i].Identifier, records[i].ExpiresAt);
            DiveMetrics.RevocationsPublished.WithLabels(targets[i].Kind == RevocationKind.Token ? "token" : "user").Inc();
        }
        return records;
    }

    /// <summary>Whether the store holds a live revocation (authoritative, one round trip).</summary>
    public async Task<bool> ExistsAsync(RevocationKind kind, string identifier)
    {
        EnsureConnected();
        try
        {
            return await Connection.GetDatabase().KeyExistsAsync(RevocationKeys.Key(kind, identifier));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw new RevocationStoreUnavailableException("The shared revocation store is unreachable.", ex);
        }
    }

    /// <summary>When a key's TTL ends, or null when the key no longer exists.</summary>
    public async Task<DateTimeOffset?> ExpiryAsync(RevocationKind kind, string identifier)
    {
        var ttl = await Connection.GetDatabase().KeyTimeToLiveAsync(RevocationKeys.Key(kind, identifier));
        return ttl is { } left ? clock.GetUtcNow() + left : null;
    }

    /// <summary>Every live revocation of one kind with its expiry, found with SCAN (never KEYS) and pipelined PTTLs.</summary>
    public async Task<Dictionary<string, DateTimeOffset>> SnapshotAsync(RevocationKind kind, CancellationToken ct)
    {
        EnsureConnected();
        var prefix = kind == RevocationKind.Token ? RevocationKeys.TokenPrefix : RevocationKeys.UserPrefix;
        var db = Connection.GetDatabase();
        var result = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        try
        {
            await foreach (var batch in ScanAsync(db, prefix + "*", ct))
            {
                var ttls = batch.Select(key => db.KeyTimeToLiveAsync(key)).ToArray();
                var now = clock.GetUtcNow();
                for (var i = 0; i < batch.Count; i++)
                {
                    if (await ttls[i] is { } ttl)
                    {
                        result[batch[i][prefix.Length..]] = now + ttl;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
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
            await foreach (var batch in ScanAsync(Connection.GetDatabase(), prefix + "*", ct))
            {
                count += batch.Count;
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw new RevocationStoreUnavailableException("The shared revocation store is unreachable.", ex);
        }
        return count;
    }

    private static async IAsyncEnumerable<List<string>> ScanAsync(IDatabase db, string pattern, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var cursor = "0";
        do
        {
            ct.ThrowIfCancellationRequested();
            var reply = (RedisResult[])(await db.ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", 1000))!;
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
