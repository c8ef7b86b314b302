using System.Text.Json;
using DiveAspire.Backend.Redis;
using DiveAspire.Backend.Revocation;
using StackExchange.Redis;

namespace DiveAspire.Backend.Authorization;

/// <summary>
/// Applies other nodes' <c>authz:invalidate</c> messages, and invalidates a user's decisions when the revocation feature
/// announces a logout on <c>dive-v3:user-revoked</c>. That channel is the <see cref="RevocationSubscriber"/>'s alone, which
/// tells of each user revocation (<see cref="RevocationSubscriber.UserRevoked"/>): a second handler here would keep the
/// client's subscription of the channel alive when the revocation subscriber unsubscribes to move it (a failover, a
/// half-failed resubscription), and its SUBSCRIBE would then be skipped. StackExchange.Redis resubscribes after a
/// reconnect; messages sent while disconnected are lost (Redis pub/sub is not durable), which the short decision TTLs
/// (15-120 s) bound. Subscribes in the background, retrying until the shared store answers: a backend started during a
/// store outage still starts (not ready, see RevocationSubscriber) instead of failing its start-up.
/// </summary>
public sealed class InvalidationSubscriber(RedisStores redis, DecisionCache cache, RevocationSubscriber revocations, ILogger<InvalidationSubscriber> logger)
    : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        revocations.UserRevoked += OnUserRevoked;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        revocations.UserRevoked -= OnUserRevoked;
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            if (redis.Blacklist.IsConnected)
            {
                try
                {
                    // Taken once connected: with the HA store there is no subscriber before the Sentinels named the data nodes.
                    var subscriber = redis.Blacklist.GetSubscriber();
                    await subscriber.SubscribeAsync(RedisChannel.Literal(DecisionCache.Channel), (channel, payload) => _ = OnInvalidateAsync(payload));
                    return;
                }
                catch (Exception ex) when (RedisFailures.Is(ex))
                {
                    logger.LogWarning("Decision invalidation subscription failed, retrying: {Error}", ex.GetType().Name);
                }
            }
            await Task.Delay(RetryDelay, stoppingToken);
        }
    }

    private async Task OnInvalidateAsync(RedisValue payload)
    {
        try
        {
            var message = JsonSerializer.Deserialize(payload.ToString(), WireJson.Default.InvalidationMessage);
            if (message is null || message.SourceNode == cache.NodeId)
            {
                return;
            }
            if (!Enum.TryParse<InvalidationScope>(message.Scope, ignoreCase: true, out var scope))
            {
                logger.LogWarning("Ignored an invalidation with unknown scope '{Scope}'", message.Scope);
                return;
            }
            var deleted = await cache.InvalidateLocallyAsync(scope, message.Identifier);
            logger.LogInformation("Applied {Scope} invalidation from {Source}: {Deleted} decisions", scope, message.SourceInstance, deleted);
        }
        catch (JsonException)
        {
            logger.LogWarning("Ignored a malformed message on {Channel}", DecisionCache.Channel);
        }
    }

    /// <summary>Runs on the client's message thread: the invalidation (a SCAN of the instance's Redis) goes on without it.</summary>
    private void OnUserRevoked(string user) => _ = cache.InvalidateLocallyAsync(InvalidationScope.User, user);
}
