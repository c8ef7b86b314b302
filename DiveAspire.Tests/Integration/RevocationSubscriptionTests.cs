using System.Net;
using DiveAspire.Backend.Redis;
using DiveAspire.Backend.Revocation;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// What <see cref="RevocationSubscriber"/> counts as a live subscription, against a real redis-server: both revocation
/// channels, or it is not synchronised. An operator tightening the ACL of the backend's user so that only the token
/// channel is allowed makes Redis close the subscription connection, and the client's resubscription then succeeds for
/// the token channel and is refused (NOPERM) for the user channel: the half-failed resubscription of the review.
/// </summary>
public sealed class RevocationSubscriptionTests(ITestOutputHelper output)
{
    private const string User = "dive-test-subscriber";
    private const string Password = "subscriber-secret";
    private static readonly RedisChannel TokenChannel = RedisChannel.Literal(RevocationKeys.TokenChannel);
    private static readonly RedisChannel UserChannel = RedisChannel.Literal(RevocationKeys.UserChannel);

    [Fact]
    public async Task A_backend_whose_user_channel_the_store_refuses_is_not_synchronised()
    {
        using var store = new PlainRedisServer(password: false, aof: false);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(store.Endpoint + ",allowAdmin=true");
        await using var client = await StartedClientAsync(store, admin);

        await AllowOnlyTheTokenChannelAsync(client, admin);
        // Each reconnect requests a resync, retried every 500 ms: it has had its chance to claim synchronised.
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.Null(SubscribedEndpoint(client, UserChannel));
        Assert.False(client.Subscriber.SubscriptionLive, "the subscription counts as live without the user channel");
        Assert.False(client.Subscriber.Synchronised,
            "the backend reports synchronised while its user channel is not subscribed: user-level revocations published now never reach its cache");
        // Retried every 500 ms, but a refusal that does not change is logged once, not at every attempt.
        var failures = client.Logs.Lines.Select(l => l.Message).Where(m => m.StartsWith("Revocation subscription failed, retrying", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(failures);
        var repeated = failures.Where((failure, i) => i > 0 && failure == failures[i - 1]).Count();
        Assert.True(repeated == 0, $"the same subscription failure was logged {failures.Count} times in 2 s, at every retry:\n{string.Join('\n', failures)}");
    }

    [Fact]
    public async Task Once_the_store_allows_the_user_channel_again_it_is_subscribed_once_and_user_revocations_reach_the_cache()
    {
        using var store = new PlainRedisServer(password: false, aof: false);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(store.Endpoint + ",allowAdmin=true");
        await using var client = await StartedClientAsync(store, admin);
        await AllowOnlyTheTokenChannelAsync(client, admin);
        // Let the subscriber retry the refused channel a few times: each retry must not register its handler again.
        await Task.Delay(TimeSpan.FromSeconds(2));

        // Nothing reconnects when a permission is given back: only the backend can subscribe the channel again.
        await AclSetUserAsync(admin, "allchannels");
        await EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised), "synchronised again", TimeSpan.FromSeconds(15));

        var victim = $"subscription-victim-{Guid.NewGuid():N}";
        var publisher = admin.GetSubscriber();
        await publisher.PublishAsync(UserChannel, "not a revocation");
        var receivers = await PublishUserRevocationUntilHeldAsync(publisher, client.Cache, victim);
        Assert.True(client.Cache.IsUserRevoked(victim),
            $"a user revocation published on {RevocationKeys.UserChannel} never reached the synchronised backend's cache (the last PUBLISH reached {receivers} subscribers)");
        await Task.Delay(300);
        var malformed = client.Logs.Lines.Count(l => l.Message.StartsWith("Ignored a malformed message", StringComparison.Ordinal));
        Assert.True(malformed == 1, $"one message on the user channel was handled {malformed} times: its handler is registered more than once");
        output.WriteLine($"subscribed on {SubscribedEndpoint(client, TokenChannel)} and {SubscribedEndpoint(client, UserChannel)}");
    }

    /// <summary>
    /// Another handler on the user channel on the same connection, subscribed before the revocation subscriber starts (as
    /// the decision cache's subscriber could be: the two start together). The client then reports the channel subscribed,
    /// but with no handler of the revocation subscriber's: it must register its own all the same, or user revocations
    /// published from then on never reach the cache while the backend reports synchronised.
    /// </summary>
    [Fact]
    public async Task A_handler_already_on_the_user_channel_does_not_stand_in_for_the_subscribers_own()
    {
        using var store = new PlainRedisServer(password: false, aof: false);
        await using var client = new SharedStoreClientHost(store.Endpoint, "ROU");
        var received = 0;
        await client.Stores.Blacklist.GetSubscriber().SubscribeAsync(UserChannel, (_, _) => Interlocked.Increment(ref received));
        await client.StartAsync();
        await EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised), "the first resync", TimeSpan.FromSeconds(20));

        await using var admin = await ConnectionMultiplexer.ConnectAsync(store.Endpoint);
        var victim = $"shared-channel-victim-{Guid.NewGuid():N}";
        var receivers = await PublishUserRevocationUntilHeldAsync(admin.GetSubscriber(), client.Cache, victim);
        Assert.True(client.Cache.IsUserRevoked(victim),
            $"a user revocation published on {RevocationKeys.UserChannel} never reached the synchronised backend's cache (the last PUBLISH reached {receivers} subscribers; the other handler received {Volatile.Read(ref received)})");
        Assert.True(Volatile.Read(ref received) > 0, "the other handler no longer receives the channel's messages");
    }

    private static string ConnectionString(PlainRedisServer store) => $"{store.Endpoint},user={User},password={Password}";

    private static async Task<SharedStoreClientHost> StartedClientAsync(PlainRedisServer store, ConnectionMultiplexer admin)
    {
        await AclSetUserAsync(admin, "on", ">" + Password, "~*", "allchannels", "+@all");
        var client = new SharedStoreClientHost(ConnectionString(store), "ROU");
        try
        {
            await client.StartAsync();
            await EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised), "the first resync", TimeSpan.FromSeconds(20));
            Assert.NotNull(SubscribedEndpoint(client, UserChannel));
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>ACL SETUSER that leaves only the token channel: Redis closes the subscription connection, and the user channel's SUBSCRIBE is refused from then on.</summary>
    private static async Task AllowOnlyTheTokenChannelAsync(SharedStoreClientHost client, ConnectionMultiplexer admin)
    {
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Stores.Blacklist.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                restored.TrySetResult();
            }
        };
        await AclSetUserAsync(admin, "resetchannels", "&" + RevocationKeys.TokenChannel);
        await restored.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await EventuallyAsync(() => Task.FromResult(SubscribedEndpoint(client, TokenChannel) is not null), "the token channel subscribed again",
            TimeSpan.FromSeconds(10));
    }

    private static Task AclSetUserAsync(ConnectionMultiplexer admin, params string[] rules) =>
        admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("ACL", ["SETUSER", User, .. rules]);

    private static EndPoint? SubscribedEndpoint(SharedStoreClientHost client, RedisChannel channel) =>
        client.Stores.Blacklist.GetSubscriber().SubscribedEndpoint(channel);
}
