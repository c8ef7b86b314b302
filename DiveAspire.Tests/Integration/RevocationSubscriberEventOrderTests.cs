using DiveAspire.Backend.Redis;
using DiveAspire.Backend.Revocation;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// StackExchange.Redis raises ConnectionFailed and ConnectionRestored each on a thread-pool work item of its own, so a
/// busy pool can deliver a lost subscription's ConnectionFailed after the reconnect's ConnectionRestored and after the
/// resync that followed it. The subscriber must end synchronised whatever the order, not degraded until the next reconnect.
/// And a resync already scanning when the subscription is lost must not end synchronised: its scan began before the gap.
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

    /// <summary>
    /// A resync is held at its start (its Debug line, logged once it noted the state it began in) while the subscription
    /// connection is killed and the client reconnects and subscribes both channels again. Messages published in that gap
    /// were missed, and the held scan began before it: when it ends, the backend must not count itself synchronised (the
    /// resync the reconnect requested does that), even though the subscription is live again by then.
    /// </summary>
    [Fact]
    public async Task A_resync_that_began_before_a_lost_subscription_does_not_mark_the_backend_synchronised()
    {
        using var store = new PlainRedisServer(password: false, aof: false);
        // Disposed after the client, whose resyncs' log lines look at it until it stopped.
        using var release = new ManualResetEventSlim();
        await using var client = new SharedStoreClientHost(store.Endpoint, "ROU");
        var category = typeof(RevocationSubscriber).FullName;
        // 0: resyncs run; 1: the next resync is held; 2: one is held (or was).
        var holding = 0;
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var heldEnded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Logs.Logged += (logger, message) =>
        {
            if (logger != category)
            {
                return;
            }
            if (message.StartsWith("Resynchronising the revocation cache", StringComparison.Ordinal) && Interlocked.CompareExchange(ref holding, 2, 1) == 1)
            {
                held.TrySetResult();
                release.Wait(TimeSpan.FromSeconds(30));
            }
            else if (message.StartsWith("Revocation cache resynchronised", StringComparison.Ordinal) && release.IsSet)
            {
                // Logged right after the resync set the state: the held one's end comes first once it is released.
                heldEnded.TrySetResult(client.Subscriber.Synchronised);
            }
        };
        await client.StartAsync();
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised), TimeSpan.FromSeconds(20), "the first resync");
        var firstSync = client.Subscriber.LastSync;
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Stores.Blacklist.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                restored.TrySetResult();
            }
        };

        Volatile.Write(ref holding, 1);
        client.Subscriber.RequestResync();
        try
        {
            await held.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await using (var admin = await ConnectionMultiplexer.ConnectAsync(store.Endpoint + ",allowAdmin=true"))
            {
                var name = RedisStores.ClientName("ROU", RedisStores.BlacklistName);
                var server = admin.GetServer(admin.GetEndPoints()[0]);
                var subscription = (await server.ClientListAsync()).Single(c => c.ClientType == ClientType.PubSub && c.Name == name);
                await server.ClientKillAsync(id: subscription.Id);
            }
            await restored.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.Subscriber.SubscriptionLive), TimeSpan.FromSeconds(10),
                "both channels subscribed again");
        }
        finally
        {
            release.Set();
        }

        var synchronisedAfterHeld = await heldEnded.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.False(synchronisedAfterHeld,
            "a resync whose scan began before the subscription connection was lost marked the backend synchronised: what was published in the gap is unknown to it");
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised), TimeSpan.FromSeconds(20),
            "synchronised by a resync that began after the reconnect");
        output.WriteLine($"resyncs: first {firstSync:O}, last {client.Subscriber.LastSync:O}");
    }
}
