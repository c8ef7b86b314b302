using System.Net;
using DiveAspire.Backend.Redis;
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
/// processes (<see cref="SentinelStoreProcesses"/>), the client in the test's process: which nodes' connection losses count
/// (the client holds a subscription connection to every data node, the channels are subscribed on one), and a
/// resubscription after a failover that succeeds for the token channel only.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(SentinelClientCollection.Name)]
public sealed class RevocationSubscriberHaTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);
    private static readonly RedisChannel TokenChannel = RedisChannel.Literal(RevocationKeys.TokenChannel);
    private static readonly RedisChannel UserChannel = RedisChannel.Literal(RevocationKeys.UserChannel);

    /// <summary>
    /// Losing another node's connections misses no message: the backend stays synchronised and does not resync; losing the
    /// subscribed node's still makes it unsynchronised until it resynced.
    /// </summary>
    [Fact]
    public async Task Losing_a_replicas_connections_keeps_the_backend_synchronised_losing_the_subscribed_nodes_resyncs_it()
    {
        using var store = new SentinelStoreProcesses();
        await using var client = new SharedStoreClientHost(store.BackendConnectionString());
        await client.StartReadyAsync(Ready);
        await EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised), "synchronised", Ready);
        var subscriber = client.Stores.Blacklist.GetSubscriber();
        Assert.Equal(store.NodePorts[0], Assert.IsType<IPEndPoint>(subscriber.SubscribedEndpoint(TokenChannel)).Port);
        Assert.Equal(store.NodePorts[0], Assert.IsType<IPEndPoint>(subscriber.SubscribedEndpoint(UserChannel)).Port);
        // Registered after the subscriber's handlers, so each runs once the subscriber has handled the same event.
        var events = new SubscriptionEvents(client);
        var lastSync = client.Subscriber.LastSync;

        // Replica 1: its connections closed by the server, and reconnected at once (a loss and a restoration).
        var restored = events.Restored(store.NodePorts[1]);
        await KillConnectionsAsync(store, 1, pubSubOnly: false);
        Assert.True(await restored.WaitAsync(TimeSpan.FromSeconds(20)), "unsynchronised right after replica 1's subscription connection was restored");
        // Replica 2: the process killed (no restoration).
        var lost = events.Lost(store.NodePorts[2]);
        store.KillNode(2);
        Assert.True(await lost.WaitAsync(TimeSpan.FromSeconds(20)), "unsynchronised right after replica 2's subscription connection was lost");
        // A resync requested by either would have run within this.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.True(client.Subscriber.Synchronised, "unsynchronised after replicas' connections were lost");
        Assert.True(client.Subscriber.LastSync == lastSync, $"resynchronised after replicas' connections were lost ({lastSync:O} -> {client.Subscriber.LastSync:O})");

        // The node the channels are subscribed on: its subscription connection closed by the server.
        var subscribedLost = events.Lost(store.NodePorts[0]);
        await KillConnectionsAsync(store, 0, pubSubOnly: true);
        Assert.False(await subscribedLost.WaitAsync(TimeSpan.FromSeconds(20)), "still synchronised right after the subscribed node's subscription connection was lost");
        await EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised && client.Subscriber.LastSync > lastSync),
            "resynchronised after the subscribed node's subscription connection came back", TimeSpan.FromSeconds(20));
        output.WriteLine($"resyncs: {lastSync:O}, then {client.Subscriber.LastSync:O}");
    }

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

    private static async Task KillConnectionsAsync(SentinelStoreProcesses store, int node, bool pubSubOnly)
    {
        using var admin = store.ConnectAdmin(node);
        var server = admin.GetServers()[0];
        var name = RedisStores.ClientName("USA", RedisStores.BlacklistName);
        var clients = (await server.ClientListAsync()).Where(c => c.Name == name && (!pubSubOnly || c.ClientType == ClientType.PubSub)).ToList();
        Assert.NotEmpty(clients);
        foreach (var connection in clients)
        {
            await server.ClientKillAsync(id: connection.Id);
        }
    }

    /// <summary>The backend's Synchronised right after its subscriber handled a subscription connection's loss or restoration of one node.</summary>
    private sealed class SubscriptionEvents
    {
        private readonly List<(bool Restored, int Port, TaskCompletionSource<bool> Synchronised)> _waiting = [];

        public SubscriptionEvents(SharedStoreClientHost client)
        {
            client.Stores.Blacklist.ConnectionFailed += (_, e) => Seen(client, restored: false, e);
            client.Stores.Blacklist.ConnectionRestored += (_, e) => Seen(client, restored: true, e);
        }

        public Task<bool> Lost(int port) => Wait(restored: false, port);

        public Task<bool> Restored(int port) => Wait(restored: true, port);

        private Task<bool> Wait(bool restored, int port)
        {
            var synchronised = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waiting)
            {
                _waiting.Add((restored, port, synchronised));
            }
            return synchronised.Task;
        }

        private void Seen(SharedStoreClientHost client, bool restored, ConnectionFailedEventArgs e)
        {
            if (e.ConnectionType != ConnectionType.Subscription || e.EndPoint is not IPEndPoint { Port: var port })
            {
                return;
            }
            var synchronised = client.Subscriber.Synchronised;
            lock (_waiting)
            {
                foreach (var waiting in _waiting.Where(w => w.Restored == restored && w.Port == port))
                {
                    waiting.Synchronised.TrySetResult(synchronised);
                }
            }
        }
    }
}
