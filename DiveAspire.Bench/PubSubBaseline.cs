using System.Diagnostics;
using StackExchange.Redis;

namespace DiveAspire.Bench;

/// <summary>
/// The floor for revocation propagation: publish on one connection, receive on another, on a redis-server of the
/// bench's own. Sampled one round trip at a time, right before each revocation, so both see the machine alike.
/// </summary>
public sealed class PubSubBaseline : IAsyncDisposable
{
    private static readonly RedisChannel Channel = RedisChannel.Literal("dive-bench:pubsub");
    private readonly LocalRedis _redis;
    private readonly ConnectionMultiplexer _publisher;
    private readonly ConnectionMultiplexer _subscriber;
    private TaskCompletionSource<long>? _pending;

    private PubSubBaseline(LocalRedis redis, ConnectionMultiplexer publisher, ConnectionMultiplexer subscriber)
    {
        _redis = redis;
        _publisher = publisher;
        _subscriber = subscriber;
    }

    public static async Task<PubSubBaseline> StartAsync()
    {
        var redis = await LocalRedis.StartAsync();
        var baseline = new PubSubBaseline(redis, await redis.ConnectAsync(), await redis.ConnectAsync());
        await baseline._subscriber.GetSubscriber().SubscribeAsync(Channel, (_, _) => baseline._pending?.TrySetResult(Stopwatch.GetTimestamp()));
        for (var i = 0; i < 50; i++) // warm up the connections and the JIT
        {
            await baseline.RoundTripMsAsync();
        }
        return baseline;
    }

    public async Task<double> RoundTripMsAsync()
    {
        _pending = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = Stopwatch.GetTimestamp();
        await _publisher.GetSubscriber().PublishAsync(Channel, "x");
        var received = await _pending.Task.WaitAsync(TimeSpan.FromSeconds(5));
        return Stopwatch.GetElapsedTime(start, received).TotalMilliseconds;
    }

    public async ValueTask DisposeAsync()
    {
        await _publisher.DisposeAsync();
        await _subscriber.DisposeAsync();
        await _redis.DisposeAsync();
    }
}
