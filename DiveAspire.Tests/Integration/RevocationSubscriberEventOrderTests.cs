using DiveAspire.Backend.Redis;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// StackExchange.Redis raises ConnectionFailed and ConnectionRestored each on a thread-pool work item of its own, so a
/// busy pool can deliver a lost subscription's ConnectionFailed after the reconnect's ConnectionRestored and after the
/// resync that followed it. The subscriber must end synchronised whatever the order, not degraded until the next reconnect.
/// </summary>
public sealed class RevocationSubscriberEventOrderTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_lost_subscription_reported_after_its_reconnect_and_resync_ends_synchronised()
    {
        using var store = new PlainRedisServer(password: false, aof: false);
        await using var client = new SharedStoreClientHost(store.Endpoint, "ROU");
        // A handler registered before the subscriber's runs first on the same work item: holding it back delivers the
        // subscriber's ConnectionFailed late, as a busy thread pool does.
        using var release = new ManualResetEventSlim();
        var held = 0;
        client.Stores.Blacklist.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription && Interlocked.Exchange(ref held, 1) == 0)
            {
                release.Wait(TimeSpan.FromSeconds(30));
            }
        };
        await client.StartAsync();
        // Registered after the subscriber's own handler: runs once the subscriber has seen the late loss.
        var lateLossSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Stores.Blacklist.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                lateLossSeen.TrySetResult();
            }
        };
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised), TimeSpan.FromSeconds(20), "the first resync");
        var firstSync = client.Subscriber.LastSync;

        await using (var admin = await ConnectionMultiplexer.ConnectAsync(store.Endpoint + ",allowAdmin=true"))
        {
            var name = RedisStores.ClientName("ROU", RedisStores.BlacklistName);
            var server = admin.GetServer(admin.GetEndPoints()[0]);
            var subscription = (await server.ClientListAsync()).Single(c => c.ClientType == ClientType.PubSub && c.Name == name);
            await server.ClientKillAsync(id: subscription.Id);
        }
        // The reconnect's resync completes while the loss is still undelivered.
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.Subscriber.LastSync > firstSync && client.Subscriber.Synchronised),
            TimeSpan.FromSeconds(20), "the resync after the reconnect");
        Assert.Equal(1, Volatile.Read(ref held));
        release.Set();
        await lateLossSeen.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised), TimeSpan.FromSeconds(10),
            "synchronised again after the late ConnectionFailed");
        output.WriteLine($"resyncs: first {firstSync:O}, last {client.Subscriber.LastSync:O}");
    }
}
