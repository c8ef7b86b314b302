using System.Net;
using DiveAspire.Backend.Authorization;
using DiveAspire.Backend.Redis;
using DiveAspire.Backend.Revocation;
using DiveAspire.Cli;
using DiveAspire.Tests.Cli;
using DiveAspire.Topology;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;
using Xunit.Abstractions;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// The revocation subscription of a backend's client of the HA shared store, against real redis-server and redis-sentinel
/// processes (<see cref="SentinelStoreProcesses"/>), the client in the test's process: which nodes' connection losses count
/// (the client holds a subscription connection to every data node, the channels are subscribed on one), a failover off a
/// hung primary with the decision cache's subscriber on the same connection, a resubscription after a failover that
/// succeeds for the token channel only, and the state before the Sentinels agree.
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
        await using var client = await SynchronisedClientAsync(store);
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
        await using var client = await SynchronisedClientAsync(store);
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
            var receivers = await PublishUserRevocationUntilHeldAsync(node1.GetSubscriber(), client.Cache, victim);
            Assert.True(client.Cache.IsUserRevoked(victim),
                $"a user revocation published on the new primary never reached the synchronised backend's cache (the last PUBLISH reached {receivers} subscribers there)");
        }
        finally
        {
            LocalProcesses.Signal(primary, UnixSignal.Cont);
        }
    }

    /// <summary>
    /// The primary hangs (SIGSTOP) and the Sentinels promote node 1, with the backend's decision cache subscribed on the same
    /// shared-store connection (<see cref="InvalidationSubscriber"/>, as in the backend). When the decision cache held a
    /// handler of its own on the user channel, moving the subscription off the hung node unregistered only the revocation
    /// subscriber's: the client kept the channel subscribed on the hung node for the other handler, the SUBSCRIBE that was to
    /// move it was skipped as done, and the backend reported synchronised with its handler registered nowhere. Both channels
    /// must end on node 1 with the backend synchronised, and a user revocation published there must reach the revocation
    /// cache and drop that user's decisions.
    /// </summary>
    [Fact]
    public async Task A_failover_off_a_hung_primary_moves_both_channels_and_user_revocations_published_on_the_new_primary_reach_the_caches()
    {
        using var store = new SentinelStoreProcesses();
        await using var client = await SynchronisedClientAsync(store);
        var subscriber = client.Stores.Blacklist.GetSubscriber();
        // The decision cache subscribes in the background too: in place before the primary hangs.
        await EventuallyAsync(() => Task.FromResult(subscriber.SubscribedEndpoint(RedisChannel.Literal(DecisionCache.Channel)) is not null),
            "the decision cache's channel subscribed", Ready);
        await Task.Delay(TimeSpan.FromSeconds(1));
        using var node1 = store.ConnectAdmin(1);
        using (var node2 = store.ConnectAdmin(2))
        {
            // Node 1 is the one promoted.
            await node2.GetServers()[0].ExecuteAsync("CONFIG", "SET", "replica-priority", "0");
        }
        var primary = store.NodeProcessId(0);
        bool On(RedisChannel channel, int node) => subscriber.SubscribedEndpoint(channel) is IPEndPoint { Port: var port } && port == store.NodePorts[node];
        string State() => $"primary {client.Sentinels.Current}, token channel on {subscriber.SubscribedEndpoint(TokenChannel)?.ToString() ?? "none"}, "
            + $"user channel on {subscriber.SubscribedEndpoint(UserChannel)?.ToString() ?? "none"}, synchronised {client.Subscriber.Synchronised}, "
            + $"live {client.Subscriber.SubscriptionLive}";
        try
        {
            Assert.True(LocalProcesses.Signal(primary, UnixSignal.Stop), $"primary pid {primary} was not running");
            await EventuallyAsync(() => Task.FromResult(client.Sentinels.Current is IPEndPoint { Port: var port } && port == store.NodePorts[1]),
                "the client to take node 1 as primary", Ready);
            // Until the backend has taken in the failover (it does at once), synchronised on node 0 is what it knew.
            var tookIn = DateTime.UtcNow.AddSeconds(1);
            try
            {
                await EventuallyAsync(() =>
                {
                    var synchronised = client.Subscriber.Synchronised;
                    if (synchronised && DateTime.UtcNow > tookIn && (On(TokenChannel, 0) || On(UserChannel, 0)))
                    {
                        throw new Xunit.Sdk.XunitException("the backend reports synchronised with a channel still subscribed on the hung node 0, "
                            + "where nothing published on the new primary reaches it");
                    }
                    return Task.FromResult(synchronised && On(TokenChannel, 1) && On(UserChannel, 1));
                }, "both channels subscribed on node 1 and the backend synchronised", TimeSpan.FromSeconds(30));
            }
            catch (Xunit.Sdk.XunitException ex)
            {
                throw new Xunit.Sdk.XunitException($"{ex.Message}: {State()}\n{client.Log}");
            }
            output.WriteLine($"after the failover: {State()}");

            var victim = $"hung-primary-victim-{Guid.NewGuid():N}";
            await using var instanceRedis = await ConnectionMultiplexer.ConnectAsync(client.CacheEndpoint);
            var decision = $"{DecisionCache.KeyPrefix}{victim}:USA-SECRET-001:SECRET";
            await instanceRedis.GetDatabase().StringSetAsync(decision, "{}", TimeSpan.FromMinutes(5));
            var receivers = await PublishUserRevocationUntilHeldAsync(node1.GetSubscriber(), client.Cache, victim);
            Assert.True(client.Cache.IsUserRevoked(victim),
                $"a user revocation published on the new primary never reached the synchronised backend's cache (the last PUBLISH reached {receivers} subscribers there): {State()}");
            await EventuallyAsync(async () => !await instanceRedis.GetDatabase().KeyExistsAsync(decision),
                "the revoked user's decisions dropped from the instance's Redis", TimeSpan.FromSeconds(10));
        }
        finally
        {
            LocalProcesses.Signal(primary, UnixSignal.Cont);
        }
    }

    /// <summary>
    /// Before a majority of the Sentinels named the data nodes, the shared store's connection has no subscriber (asking for
    /// one throws): the subscription is not live, which asking must say without throwing, and the revocation health check is
    /// Unhealthy (not ready). An exception there made the check Degraded, which /health/ready answers with 200.
    /// </summary>
    [Fact]
    public async Task Before_the_Sentinels_agree_the_subscription_is_not_live_and_the_revocation_check_is_unhealthy()
    {
        using var store = new SentinelStoreProcesses();
        var sentinels = Enumerable.Range(0, store.SentinelPorts.Length).Select(store.SentinelProcessId).ToList();
        try
        {
            foreach (var pid in sentinels)
            {
                Assert.True(LocalProcesses.Signal(pid, UnixSignal.Stop), $"Sentinel pid {pid} was not running");
            }
            await using var client = new SharedStoreClientHost(store.BackendConnectionString() + ",connectTimeout=1000");
            await client.StartAsync();
            await Task.Delay(TimeSpan.FromSeconds(2));
            var report = await client.Health.CheckHealthAsync(r => r.Name == "revocation");
            var check = report.Entries["revocation"];
            Assert.True(check.Status == HealthStatus.Unhealthy && check.Exception is null,
                $"the revocation check is {check.Status} before the Sentinels agree: {check.Description} ({check.Exception?.GetType().Name}: {check.Exception?.Message})");
            Assert.False(client.Subscriber.SubscriptionLive);
            Assert.False(client.Subscriber.Synchronised);
        }
        finally
        {
            foreach (var pid in sentinels)
            {
                LocalProcesses.Signal(pid, UnixSignal.Cont);
            }
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

    /// <summary>A backend's shared-store client on <paramref name="store"/>, started, ready and synchronised (disposed if it never is).</summary>
    private static async Task<SharedStoreClientHost> SynchronisedClientAsync(SentinelStoreProcesses store)
    {
        var client = new SharedStoreClientHost(store.BackendConnectionString());
        try
        {
            await client.StartReadyAsync(Ready);
            await EventuallyAsync(() => Task.FromResult(client.Subscriber.Synchronised), "synchronised", Ready);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }
}
