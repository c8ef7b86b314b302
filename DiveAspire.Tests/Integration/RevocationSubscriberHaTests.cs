using System.Net;
using DiveAspire.Backend.Revocation;
using DiveAspire.Cli;
using DiveAspire.Tests.Cli;
using DiveAspire.Topology;
using StackExchange.Redis;
using Xunit.Abstractions;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// The revocation subscription of a backend's client of the HA shared store, against real redis-server and redis-sentinel
/// processes (<see cref="SentinelStoreProcesses"/>), the client in the test's process: a resubscription after a failover
/// that succeeds for the token channel only.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(SentinelClientCollection.Name)]
public sealed class RevocationSubscriberHaTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);
    private static readonly RedisChannel TokenChannel = RedisChannel.Literal(RevocationKeys.TokenChannel);
    private static readonly RedisChannel UserChannel = RedisChannel.Literal(RevocationKeys.UserChannel);

    /// <summary>
    /// The primary hangs (SIGSTOP) and the Sentinels promote node 1, where the backend's user may subscribe to the token
    /// channel only (an ACL not yet updated there). Moving the subscription off the hung node times out, and subscribing
    /// on node 1 succeeds for the token channel and is refused (NOPERM) for the user channel: the backend must not count
    /// itself synchronised, and must subscribe the user channel there once node 1 allows it.
    /// </summary>
    [Fact]
    public async Task A_failover_onto_a_node_refusing_the_user_channel_leaves_the_backend_unsynchronised_until_it_subscribed_there()
    {
        using var store = new SentinelStoreProcesses();
        await using var client = new SharedStoreClientHost(store.BackendConnectionString());
        await client.StartReadyAsync(Ready);
        await EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised), "synchronised", Ready);
        var subscriber = client.Stores.Blacklist.GetSubscriber();
        var backendUser = RedisAcl.Backend(store.Topology.Blacklist, store.Topology.Instances.Single(i => i.Code == "USA")).Name;
        using var node1 = store.ConnectAdmin(1);
        using (var node2 = store.ConnectAdmin(2))
        {
            // Node 1 is the one promoted.
            await node2.GetServers()[0].ExecuteAsync("CONFIG", "SET", "replica-priority", "0");
        }
        await node1.GetServers()[0].ExecuteAsync("ACL", "SETUSER", backendUser, "resetchannels", "&" + RevocationKeys.TokenChannel, "&authz:invalidate");
        var primary = store.NodeProcessId(0);
        string State() => $"primary {client.Sentinels.Current}, token channel on {subscriber.SubscribedEndpoint(TokenChannel)?.ToString() ?? "none"}, "
            + $"user channel on {subscriber.SubscribedEndpoint(UserChannel)?.ToString() ?? "none"}, synchronised {client.Subscriber.Synchronised}, "
            + string.Join(", ", client.Stores.Blacklist.GetServers().Select(s => $"{s.EndPoint} {(s.IsReplica ? "replica" : "primary")} {(s.IsConnected ? "up" : "down")}"));
        try
        {
            Assert.True(LocalProcesses.Signal(primary, UnixSignal.Stop), $"primary pid {primary} was not running");
            await EventuallyAsync(() => Task.FromResult(client.Sentinels.Current is IPEndPoint { Port: var port } && port == store.NodePorts[1]),
                "the client to take node 1 as primary", Ready);
            try
            {
                await EventuallyAsync(() => Task.FromResult(subscriber.SubscribedEndpoint(TokenChannel) is IPEndPoint { Port: var port } && port == store.NodePorts[1]),
                    "the token channel subscribed on node 1", TimeSpan.FromSeconds(30));
            }
            catch (Xunit.Sdk.XunitException ex)
            {
                throw new Xunit.Sdk.XunitException($"{ex.Message}: {State()}\n{client.Log}");
            }
            // The resyncs the reconnects and the failover requested, retried every 500 ms, have had their chance.
            await Task.Delay(TimeSpan.FromSeconds(3));
            output.WriteLine($"after the failover: {State()}");
            Assert.Null(subscriber.SubscribedEndpoint(UserChannel));
            Assert.False(client.Subscriber.Synchronised,
                $"the backend reports synchronised while its user channel is not subscribed: user-level revocations published now never reach its cache ({State()})");

            await node1.GetServers()[0].ExecuteAsync("ACL", "SETUSER", backendUser, "&" + RevocationKeys.UserChannel);
            try
            {
                await EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised), "synchronised once node 1 allows the user channel", TimeSpan.FromSeconds(15));
            }
            catch (Xunit.Sdk.XunitException ex)
            {
                throw new Xunit.Sdk.XunitException($"{ex.Message}: {State()}\n{client.Log}");
            }
            var victim = $"failover-victim-{Guid.NewGuid():N}";
            var message = new RevocationMessage(RevocationMessage.UserType, victim, "test", "BEL", DateTimeOffset.UtcNow).ToJson();
            var receivers = 0L;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            // Published only (no key): a resync cannot learn it, only the channel can.
            while (!client.Cache.IsUserRevoked(victim) && DateTime.UtcNow < deadline)
            {
                receivers = await node1.GetSubscriber().PublishAsync(UserChannel, message);
                await Task.Delay(200);
            }
            Assert.True(client.Cache.IsUserRevoked(victim),
                $"a user revocation published on the new primary never reached the synchronised backend's cache (the last PUBLISH reached {receivers} subscribers there)");
        }
        finally
        {
            LocalProcesses.Signal(primary, UnixSignal.Cont);
        }
    }
}
