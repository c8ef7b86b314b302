using System.Diagnostics;
using StackExchange.Redis;

namespace DiveAspire.Bench;

/// <summary>The floor for revocation propagation: publish on one connection, receive on another, same machine.</summary>
public static class PubSubBaseline
{
    public static async Task<IReadOnlyList<double>> RoundTripsMsAsync(int count)
    {
        await using var redis = await LocalRedis.StartAsync();
        await using var publisher = await redis.ConnectAsync();
        await using var subscriber = await redis.ConnectAsync();
        var channel = RedisChannel.Literal("dive-bench:pubsub");
        TaskCompletionSource<long>? pending = null;
        await subscriber.GetSubscriber().SubscribeAsync(channel, (_, _) => pending?.TrySetResult(Stopwatch.GetTimestamp()));

        var samples = new List<double>(count);
        for (var i = -50; i < count; i++) // the first 50 warm up the connections and the JIT
        {
            pending = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var start = Stopwatch.GetTimestamp();
            await publisher.GetSubscriber().PublishAsync(channel, "x");
            var received = await pending.Task.WaitAsync(TimeSpan.FromSeconds(5));
            if (i >= 0)
            {
                samples.Add(Stopwatch.GetElapsedTime(start, received).TotalMilliseconds);
            }
        }
        return samples;
    }
}
