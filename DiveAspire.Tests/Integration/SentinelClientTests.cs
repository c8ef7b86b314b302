using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DiveAspire.Backend.Revocation;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// The backend's client of the HA shared store (<see cref="Backend.Redis.SentinelPrimary"/>, <see cref="RevocationStore"/>,
/// <see cref="RevocationSubscriber"/>) in the test's process (<see cref="SharedStoreClientHost"/>) against real
/// redis-server and redis-sentinel processes of each test's own (<see cref="SentinelStoreProcesses"/>): the review
/// findings on which node it reads, whom it believes at start and where it sends its password.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(SentinelClientCollection.Name)]
public sealed class SentinelClientTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_explicit_sync_replaces_the_cache_only_with_what_a_node_that_was_primary_before_and_after_its_scan_holds()
    {
        using var store = new SentinelStoreProcesses();
        await using var client = new SharedStoreClientHost(store.BackendConnectionString());
        await client.StartReadyAsync(Ready);
        var victim = $"sync-victim-{Guid.NewGuid():N}";
        await client.Store.RevokeUserAsync(victim, TimeSpan.FromHours(1), "test");
        Assert.True(client.Cache.IsUserRevoked(victim));

        // Node 1 leaves replication and loses the revocation: a node that calls itself primary and lacks it.
        using (var node1 = store.ConnectAdmin(1))
        {
            var server = node1.GetServers()[0];
            await server.ExecuteAsync("REPLICAOF", "NO", "ONE");
            await server.ExecuteAsync("CONFIG", "SET", "min-replicas-to-write", "0");
            Assert.Equal(1, (long)await server.ExecuteAsync("DEL", RevocationKeys.Key(RevocationKind.User, victim)));
        }
        // The sync's first ROLE waits on the paused primary (node 0) while the Sentinels come to name node 1 and the
        // client takes it: the node the sync then reads is not the one whose ROLE it checked first.
        const int PauseMs = 1800;
        using var node0 = store.ConnectAdmin(0);
        await node0.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", PauseMs, "ALL");
        var paused = Stopwatch.StartNew();
        var sync = client.Subscriber.ResyncAsync(CancellationToken.None, replace: true);
        await NameAsPrimaryAsync(store, 1);
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.Sentinels.Current is IPEndPoint { Port: var port } && port == store.NodePorts[1]),
            TimeSpan.FromMilliseconds(PauseMs), "the client to take node 1 as primary while node 0 is paused");
        var switchedAfter = paused.Elapsed;
        output.WriteLine($"node 1 taken as primary {switchedAfter.TotalMilliseconds:F0} ms into the {PauseMs} ms pause of node 0");
        Assert.True(switchedAfter < TimeSpan.FromMilliseconds(PauseMs - 100), $"precondition: the switch came {switchedAfter.TotalMilliseconds:F0} ms after the pause began");

        var (tokens, users) = await sync;
        output.WriteLine($"the sync read {tokens} tokens and {users} users");
        Assert.True(client.Cache.IsUserRevoked(victim), "the explicit sync dropped a revocation: it replaced the cache with a node whose ROLE it had not checked before its scan");
    }

    [Fact]
    public async Task At_start_the_data_nodes_are_those_a_majority_of_the_Sentinels_name_not_those_of_the_first_to_answer()
    {
        using var store = new SentinelStoreProcesses();
        // Another deployment's Sentinel (same user names and passwords), first in the client's list.
        using var foreign = new SentinelStoreProcesses(store.Secrets);
        var connectionString = store.BackendConnectionString();
        connectionString = $"127.0.0.1:{foreign.SentinelPorts[0]},127.0.0.1:{store.SentinelPorts[1]},127.0.0.1:{store.SentinelPorts[2]}"
            + connectionString[connectionString.IndexOf(",serviceName", StringComparison.Ordinal)..];
        await using var client = new SharedStoreClientHost(connectionString);
        try
        {
            await client.StartReadyAsync(Ready);
            Assert.Equal(store.NodePorts[0], Assert.IsType<IPEndPoint>(client.Sentinels.Current).Port);
            var user = $"majority-{Guid.NewGuid():N}";
            await client.Store.RevokeUserAsync(user, TimeSpan.FromMinutes(5), "test");
            using var primary = store.ConnectAdmin(0);
            Assert.True(await primary.GetDatabase().KeyExistsAsync(RevocationKeys.Key(RevocationKind.User, user)), "the revocation is on the store's primary");
            Assert.Contains("2 of 3 Sentinels agree", client.Log, StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException || ex.Message.Contains("resynchronise", StringComparison.Ordinal))
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n--- the client's log:\n{string.Join('\n', client.Log.Split('\n').TakeLast(15))}");
        }
    }

    [Fact]
    public async Task A_Sentinel_beyond_loopback_that_names_a_loopback_node_is_refused_and_nothing_connects_there()
    {
        var address = JoinHubFixture.HubHost;
        Assert.NotEqual("127.0.0.1", address); // this machine's network address (the one a joining spoke would use)
        // Whoever listens on the client's own loopback, where a hub Sentinel announcing 127.0.0.1 would send it. (The
        // Sentinel itself connects there too, to watch what it monitors, but sends no credential.)
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var received = ReceiveAllAsync(listener, stop.Token);
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        try
        {
            var loopbackPort = ((IPEndPoint)listener.LocalEndpoint).Port;
            using var sentinel = new RedisSentinelProcess(BlacklistHighAvailability.ServiceName, loopbackPort, "backend-usa", password, stale: true, bind: address);
            await using var client = new SharedStoreClientHost(
                $"{address}:{sentinel.Port},serviceName={BlacklistHighAvailability.ServiceName},user=backend-usa,password={password}{RedisAcl.ClientOptions}");

            // The start does not wait for the Sentinels; the discovery behind it refuses them and stops the client.
            await client.StartAsync(new CancellationTokenSource(Ready).Token);
            await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.Sentinels.StartRefusal is not null), Ready, "the discovery to refuse the Sentinel");
            var error = client.Sentinels.StartRefusal!;
            output.WriteLine(error);
            Assert.Contains("loopback", error, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error);
            Assert.DoesNotContain(password, error, StringComparison.Ordinal);
            Assert.Contains(client.Logs.Lines, l => l.Message.Contains(error, StringComparison.Ordinal));
            await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.Lifetime.ApplicationStopping.IsCancellationRequested), TimeSpan.FromSeconds(10),
                "the refusal to stop the client (a backend exits with it)");
            Assert.False(client.Stores.Blacklist.IsConnected);
            await Task.Delay(500);
        }
        finally
        {
            await stop.CancelAsync();
            listener.Stop();
        }
        Assert.DoesNotContain(password, await received, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Sentinel_that_refuses_the_switch_master_subscription_is_reported_in_one_line_and_the_subscription_is_retried()
    {
        // The backend's user on the Sentinels without the +switch-master channel (a deployment's ACL gone wrong).
        using var store = new SentinelStoreProcesses(null, user => user.Role == RedisUserRole.Backend
            ? user with { Rules = user.Rules.Replace(" &+switch-master", "", StringComparison.Ordinal) }
            : user);
        var backendUser = RedisAcl.Backend(store.Topology.Blacklist, store.Topology.Instances.Single(i => i.Code == "USA")).Name;
        await using var client = new SharedStoreClientHost(store.BackendConnectionString());
        // The half-second poll takes the primary all the same.
        await client.StartReadyAsync(Ready);
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.Log.Contains("refused the +switch-master subscription", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "a warning that a Sentinel refused the +switch-master subscription");
        var warnings = client.Logs.Lines.Where(l => l.Message.Contains("refused the +switch-master subscription", StringComparison.Ordinal)).ToList();
        output.WriteLine(warnings[0].Message);
        Assert.Contains("NOPERM", warnings[0].Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', warnings[0].Message);
        Assert.DoesNotContain(store.Passwords, p => client.Log.Contains(p, StringComparison.Ordinal));

        // The channel granted on every Sentinel: a later attempt subscribes, without a restart.
        for (var i = 0; i < store.SentinelPorts.Length; i++)
        {
            using var admin = store.ConnectAdmin(i, sentinel: true);
            await admin.GetServers()[0].ExecuteAsync("ACL", "SETUSER", backendUser, "&+switch-master");
        }
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.Log.Contains("subscribed to +switch-master", StringComparison.Ordinal)),
            Backend.Redis.SentinelPrimary.SubscriptionRetry + TimeSpan.FromSeconds(20), "the subscription retried and accepted");
        // Refused again and again meanwhile, it was said once.
        Assert.Single(client.Logs.Lines, l => l.Message.Contains("refused the +switch-master subscription", StringComparison.Ordinal));
    }

    /// <summary>Everything any client sends to <paramref name="listener"/> until stopped.</summary>
    private static async Task<string> ReceiveAllAsync(TcpListener listener, CancellationToken stop)
    {
        var text = new System.Text.StringBuilder();
        var readers = new List<Task>();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var socket = await listener.AcceptTcpClientAsync(stop);
                readers.Add(Task.Run(async () =>
                {
                    using (socket)
                    {
                        var buffer = new byte[4096];
                        var stream = socket.GetStream();
                        int read;
                        while ((read = await stream.ReadAsync(buffer, stop)) > 0)
                        {
                            lock (text)
                            {
                                text.Append(System.Text.Encoding.Latin1.GetString(buffer, 0, read));
                            }
                        }
                    }
                }, CancellationToken.None));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        foreach (var reader in readers)
        {
            try
            {
                await reader;
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
        lock (text)
        {
            return text.ToString();
        }
    }

    [Fact]
    public async Task Concurrent_revocations_with_distant_replicas_are_acknowledged_without_queueing_behind_each_others_WAIT()
    {
        using var store = new SentinelStoreProcesses();
        await using var client = new SharedStoreClientHost(store.BackendConnectionString());
        await client.StartReadyAsync(Ready);
        const int Revokers = 32;
        var healthy = await RevokeConcurrentlyAsync(client, Revokers, TimeSpan.FromSeconds(3), "healthy");
        // Both replicas distant: their link to the primary goes through a hop that delays each way by 50 ms, so every
        // WAIT takes at least 100 ms. (The Sentinels are stopped first: they would point the replicas back; the client
        // keeps the primary it took.)
        for (var i = 0; i < store.SentinelPorts.Length; i++)
        {
            store.KillSentinel(i);
        }
        using var link1 = new DelayingTcpProxy(store.NodePorts[0], TimeSpan.FromMilliseconds(50));
        using var link2 = new DelayingTcpProxy(store.NodePorts[0], TimeSpan.FromMilliseconds(50));
        foreach (var (index, link) in new[] { (1, link1), (2, link2) })
        {
            using var replica = store.ConnectAdmin(index);
            await replica.GetServers()[0].ExecuteAsync("REPLICAOF", "127.0.0.1", link.Port);
        }
        await HttpAssertions.EventuallyAsync(async () =>
        {
            using var primary = store.ConnectAdmin(0);
            var info = (string)(await primary.GetServers()[0].ExecuteAsync("INFO", "replication"))!;
            return info.Contains("connected_slaves:2", StringComparison.Ordinal) && !info.Contains("state=wait_bgsave", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), "both replicas replicating through their distant links");
        var slow = await RevokeConcurrentlyAsync(client, Revokers, TimeSpan.FromSeconds(5), "distant replicas");
        output.WriteLine(Summary("healthy replicas", healthy));
        output.WriteLine(Summary("distant replicas (100 ms round trip)", slow));

        // No acknowledged revocation is lost: each is on the primary and, once the replicas caught up, on both replicas.
        foreach (var index in new[] { 0, 1, 2 })
        {
            using var node = store.ConnectAdmin(index);
            var db = node.GetDatabase();
            await HttpAssertions.EventuallyAsync(async () =>
            {
                foreach (var (user, _, _) in healthy.Concat(slow).Where(r => r.Acknowledged))
                {
                    if (!await db.KeyExistsAsync(RevocationKeys.Key(RevocationKind.User, user)))
                    {
                        return false;
                    }
                }
                return true;
            }, TimeSpan.FromSeconds(30), $"every acknowledged revocation on data node {index}");
        }
        Assert.All(healthy, r => Assert.True(r.Acknowledged, "a revocation was refused with healthy replicas"));
        Assert.True(slow.Count(r => r.Acknowledged) >= slow.Count * 95 / 100, Summary("distant replicas: more than 5 % refused", slow));
        Assert.True(Percentile(slow, 0.99) < TimeSpan.FromSeconds(1), Summary("distant replicas: p99 of 1 s or more", slow));
    }

    private static async Task<List<(string User, bool Acknowledged, TimeSpan Took)>> RevokeConcurrentlyAsync(
        SharedStoreClientHost client, int revokers, TimeSpan duration, string label)
    {
        var results = new System.Collections.Concurrent.ConcurrentBag<(string, bool, TimeSpan)>();
        var until = DateTime.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, revokers).Select(i => Task.Run(async () =>
        {
            while (DateTime.UtcNow < until)
            {
                var user = $"{label.Replace(' ', '-')}-{i}-{Guid.NewGuid():N}";
                var clock = Stopwatch.StartNew();
                try
                {
                    await client.Store.RevokeUserAsync(user, TimeSpan.FromMinutes(10), "concurrency");
                    results.Add((user, true, clock.Elapsed));
                }
                catch (RevocationStoreUnavailableException)
                {
                    results.Add((user, false, clock.Elapsed));
                }
            }
        })));
        return [.. results];
    }

    private static TimeSpan Percentile(IEnumerable<(string, bool, TimeSpan Took)> results, double p)
    {
        var sorted = results.Select(r => r.Took).Order().ToList();
        return sorted.Count == 0 ? TimeSpan.Zero : sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * p))];
    }

    private static string Summary(string label, List<(string User, bool Acknowledged, TimeSpan Took)> results) =>
        $"{label}: {results.Count} revocations, {results.Count(r => r.Acknowledged)} acknowledged, {results.Count(r => !r.Acknowledged)} refused; " +
        $"p50 {Percentile(results, 0.5).TotalMilliseconds:F0} ms, p99 {Percentile(results, 0.99).TotalMilliseconds:F0} ms, max {Percentile(results, 1).TotalMilliseconds:F0} ms";

    /// <summary>Every Sentinel of the store now monitors data node <paramref name="index"/> (what a failover would leave them naming).</summary>
    private static async Task NameAsPrimaryAsync(SentinelStoreProcesses store, int index)
    {
        var sentinelUser = RedisAcl.Sentinel(store.Topology.Blacklist);
        var service = BlacklistHighAvailability.ServiceName;
        for (var i = 0; i < store.SentinelPorts.Length; i++)
        {
            using var sentinel = store.ConnectAdmin(i, sentinel: true);
            var server = sentinel.GetServers()[0];
            await server.ExecuteAsync("SENTINEL", "REMOVE", service);
            await server.ExecuteAsync("SENTINEL", "MONITOR", service, "127.0.0.1", store.NodePorts[index], BlacklistHighAvailability.Quorum);
            await server.ExecuteAsync("SENTINEL", "SET", service, "auth-user", sentinelUser.Name, "auth-pass", store.Secrets.For(sentinelUser));
        }
    }
}

/// <summary>
/// Alone, after the parallel collections: the concurrency measurement loads both cores for seconds and would skew the
/// timings other HA tests assert (and theirs its own).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SentinelClientCollection
{
    public const string Name = "sentinel-client";
}
