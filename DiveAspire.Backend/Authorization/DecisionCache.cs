using System.Text.Json;
using DiveAspire.Backend.Catalog;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Metrics;
using DiveAspire.Backend.Redis;
using DiveAspire.Backend.Revocation;
using StackExchange.Redis;

namespace DiveAspire.Backend.Authorization;

public sealed record CachedDecision(Decision Decision, bool Cached, TimeSpan Ttl);

/// <summary>
/// Decisions cached in the instance's own Redis under <c>dive-v3:authz:decision:{user}:{resource}:{clearance}:{country}</c>
/// with the classification's TTL. Invalidation deletes matching keys here and is published on <c>authz:invalidate</c> in the
/// shared store (the only Redis every backend reaches); other nodes apply it to their own Redis, the sender ignores its echo.
/// A failing Redis means decisions are computed uncached, never refused.
/// </summary>
public sealed class DecisionCache(RedisStores redis, InstanceInfo instance, RevocationOptions revocation, ILogger<DecisionCache> logger)
{
    public const string Channel = "authz:invalidate";
    public const string KeyPrefix = "dive-v3:authz:decision:";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    /// <summary>This process: replicas of one instance are different nodes.</summary>
    public string NodeId { get; } = $"{instance.Code}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..32];

    public static string Key(Subject subject, string resourceId) =>
        $"{KeyPrefix}{subject.UserId}:{resourceId}:{Classification.Normalise(subject.Clearance)}:{subject.Country.ToUpperInvariant()}";

    public async Task<CachedDecision> DecideAsync(Subject subject, Resource resource)
    {
        var key = Key(subject, resource.ResourceId);
        var ttl = Classification.CacheTtl(resource.Classification);
        var db = redis.Cache.GetDatabase();
        try
        {
            var cached = await db.StringGetWithExpiryAsync(key).WaitAsync(Timeout);
            if (cached.Value.HasValue && JsonSerializer.Deserialize(cached.Value.ToString(), StoreJson.Default.Decision) is { } hit)
            {
                DiveMetrics.DecisionCacheHits.Inc();
                return new(hit, true, cached.Expiry ?? ttl);
            }
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            logger.LogDebug("Decision cache read failed: {Reason}", ex.GetType().Name);
        }
        DiveMetrics.DecisionCacheMisses.Inc();
        var decision = AccessDecision.Decide(subject, resource);
        try
        {
            await db.StringSetAsync(key, JsonSerializer.Serialize(decision, StoreJson.Default.Decision), ttl).WaitAsync(Timeout);
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            logger.LogDebug("Decision cache write failed: {Reason}", ex.GetType().Name);
        }
        return new(decision, false, ttl);
    }

    /// <summary>Invalidates here and tells every other node. Returns the keys deleted here and whether the message went out.</summary>
    public async Task<(long Deleted, bool Published)> InvalidateAsync(InvalidationScope scope, string? identifier)
    {
        var deleted = await InvalidateLocallyAsync(scope, identifier);
        if (revocation.Relay is not null)
        {
            // A spoke on another machine may only read the shared store (no PUBLISH): its own Redis is invalidated, and
            // every replica of it uses that Redis; other instances' entries expire by their TTL.
            return (deleted, false);
        }
        var message = new InvalidationMessage(scope.ToString().ToLowerInvariant(), identifier, NodeId, instance.Code, DateTimeOffset.UtcNow);
        try
        {
            await redis.Blacklist.GetSubscriber().PublishAsync(RedisChannel.Literal(Channel), JsonSerializer.Serialize(message, StoreJson.Default.InvalidationMessage)).WaitAsync(Timeout);
            return (deleted, true);
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            logger.LogWarning("Decision invalidation ({Scope}) not published: the shared store failed ({Reason})", message.Scope, ex.GetType().Name);
            return (deleted, false);
        }
    }

    public async Task<long> InvalidateLocallyAsync(InvalidationScope scope, string? identifier)
    {
        var pattern = scope switch
        {
            InvalidationScope.User => RedisPattern.Escape($"{KeyPrefix}{identifier}:") + "*",
            InvalidationScope.Resource => RedisPattern.Escape(KeyPrefix) + "*:" + RedisPattern.Escape($"{identifier}:") + "*",
            _ => RedisPattern.Escape(KeyPrefix) + "*",
        };
        DiveMetrics.DecisionCacheInvalidations.WithLabels(scope.ToString().ToLowerInvariant()).Inc();
        long deleted = 0;
        try
        {
            var db = redis.Cache.GetDatabase();
            foreach (var endpoint in redis.Cache.GetEndPoints())
            {
                var batch = new List<RedisKey>();
                await foreach (var key in redis.Cache.GetServer(endpoint).KeysAsync(pattern: pattern, pageSize: 500))
                {
                    batch.Add(key);
                }
                if (batch.Count > 0)
                {
                    deleted += await db.KeyDeleteAsync([.. batch]);
                }
            }
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            logger.LogWarning("Decision cache not invalidated ({Scope}): the instance's Redis failed ({Reason}); entries expire by TTL", scope, ex.GetType().Name);
        }
        return deleted;
    }
}
