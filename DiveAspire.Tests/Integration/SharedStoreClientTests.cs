using System.Diagnostics;
using System.Net;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using DiveAspire.Cli;
using DiveAspire.Backend.Revocation;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using StackExchange.Redis;
using Xunit.Abstractions;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// The backends' clients of the HA shared store under a security review's faults (issue 14), on the real topology of
/// <see cref="BlacklistHaFixture"/>: a stale Sentinel answering first, a node that lacks revocations a backend holds,
/// and hung replicas holding up every WAIT.
/// </summary>
[Collection(BlacklistHaCollection.Name)]
public sealed class SharedStoreClientTests(BlacklistHaFixture federation, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    // The two 503 bodies of a logout with hung replicas (RevocationStore.RevokeAsync): the primary ran the script but
    // WAIT 1 found no replica, or the primary refused the script itself (NOREPLICAS: nothing recorded).
    private const string NotConfirmed = "did not confirm the revocation on a replica";

    [Fact]
    public async Task A_stale_sentinel_answering_first_does_not_move_a_backends_writes_off_the_primary()
    {
        await SteadyAsync();
        var primary = (await federation.PrimaryAsync())!;
        var replica = federation.DataNodeNames.First(n => n != primary);
        var environment = await BackendEnvironmentAsync("backend-usa");
        var sentinels = ConfigurationOptions.Parse(environment["ConnectionStrings__blacklist"]);
        // A real redis-sentinel that names the replica as primary for ever; it takes the first place in the list.
        using var stale = new RedisSentinelProcess(BlacklistHighAvailability.ServiceName, (await federation.RedisEndpointAsync(replica)).Port,
            sentinels.User!, sentinels.Password!, stale: true);
        var connectionString = environment["ConnectionStrings__blacklist"];
        environment["ConnectionStrings__blacklist"] = $"127.0.0.1:{stale.Port}" + connectionString[connectionString.IndexOf(',', StringComparison.Ordinal)..];
        using var backend = new BackendProcess(environment);
        try
        {
            await backend.WaitReadyAsync(Deadline);
            // A fresh process's first requests are slow on a loaded machine: more patience than BackendProcess's 5 s.
            using var http = new HttpClient { BaseAddress = backend.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            await using var store = await federation.ConnectAsync(primary);
            for (var i = 0; i < 4; i++)
            {
                var token = federation.Mint("usa", $"stale-sentinel-{Guid.NewGuid():N}"[..28]);
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
                request.Headers.Authorization = new("Bearer", token);
                using var response = await http.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.OK,
                    $"logout through the backend whose first Sentinel is stale: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                Assert.True(await store.GetDatabase().KeyExistsAsync($"blacklist:{new JsonWebToken(token).Id}"), "the revocation is on the primary");
                await EventuallyAsync(async () => await WhoAmIAsync(federation, "rou", token) == HttpStatusCode.Unauthorized, "the revocation enforced on ROU");
            }
            Assert.DoesNotContain("name a new primary", backend.Output, StringComparison.Ordinal);
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n--- the backend's last lines:\n{string.Join('\n', backend.Output.Split('\n').TakeLast(25))}");
        }
    }

    [Fact]
    public async Task An_automatic_resync_never_drops_a_revocation_the_node_it_reads_lacks()
    {
        await SteadyAsync();
        var primary = (await federation.PrimaryAsync())!;
        var user = $"resync-union-{Guid.NewGuid():N}"[..28];
        var token = federation.Mint("usa", user);
        using (var usa = federation.Backend("usa", token))
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/logout")).Status);
        }
        await EventuallyAsync(async () => await WhoAmIAsync(federation, "bel", token) == HttpStatusCode.Unauthorized, "logout reached BEL");

        // The node BEL resyncs from lacks the revocation (as a lagging replica or a deposed primary would)...
        await using var store = await federation.ConnectAsync(primary);
        Assert.True(await store.GetDatabase().KeyDeleteAsync($"user-revoked:{user}"));
        Assert.True(await store.GetDatabase().KeyDeleteAsync($"blacklist:{new JsonWebToken(token).Id}"));
        // ...and BEL resyncs by itself: its connections to the store are cut, it reconnects and rescans. On every node:
        // only the loss of the node its channels are subscribed on (the client may pick a replica) can cost messages.
        using var admin = federation.Backend("bel", federation.MintAdmin("bel"));
        var before = await LastSyncAsync(admin);
        var belUser = RedisAcl.Backend(federation.Topology.Blacklist, federation.Topology.Instances.Single(i => i.Code == "BEL")).Name;
        var killed = 0L;
        foreach (var node in federation.DataNodeNames)
        {
            await using var connection = await federation.ConnectAsync(node);
            killed += (long)await connection.GetServers()[0].ExecuteAsync("CLIENT", "KILL", "USER", belUser);
        }
        output.WriteLine($"cut {killed} connections of BEL on every data node; last sync before {before:O}");
        await EventuallyAsync(async () => await LastSyncAsync(admin) > before, "BEL resynchronised after its reconnect", Deadline);

        Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIAsync(federation, "bel", token));
    }

    [Fact]
    public async Task With_hung_replicas_logouts_are_503_after_about_a_second_while_revocation_checks_stay_fast()
    {
        await SteadyAsync();
        var primary = (await federation.PrimaryAsync())!;
        var pids = new List<int>();
        foreach (var replica in federation.DataNodeNames.Where(n => n != primary))
        {
            pids.Add(await federation.ProcessIdAsync(replica));
        }
        var clock = Stopwatch.StartNew();
        var logouts = new List<(TimeSpan SentAt, HttpStatusCode Status, TimeSpan Took, string Body)>();
        var checks = new List<(TimeSpan SentAt, HttpStatusCode Status, TimeSpan Took, string Body)>();
        using var stop = new CancellationTokenSource();
        TimeSpan cut;
        string? goodReplicas;
        (HttpStatusCode Status, TimeSpan Took, string Body) lastRefusal;
        Task[] loops;
        try
        {
            foreach (var pid in pids)
            {
                Assert.True(LocalProcesses.Signal(pid, UnixSignal.Stop), $"replica pid {pid} was not running");
            }
            cut = clock.Elapsed;
            // Two logouts always in flight on the hub (each waits for a replica that never answers) and, on the same
            // backend, a revocation check that the local cache cannot answer (an unknown jti: EXISTS on the primary).
            loops =
            [
                LoopAsync(logouts, () => Logout(federation.Mint("usa", $"hung-{Guid.NewGuid():N}"[..28])), clock, stop.Token),
                LoopAsync(logouts, () => Logout(federation.Mint("usa", $"hung-{Guid.NewGuid():N}"[..28])), clock, stop.Token),
                LoopAsync(checks, () => Check(Guid.NewGuid().ToString("N")), clock, stop.Token),
            ];
            await Task.Delay(TimeSpan.FromSeconds(6));
            await stop.CancelAsync();
            await Task.WhenAll(loops);
            // Still hung: how many replicas the primary counts for min-replicas-to-write (0 once both lag > min-replicas-max-lag).
            goodReplicas = await GoodReplicasAsync(primary);
            // Once it counts none, a logout with no WAIT in flight is refused at once, whether or not the loops met a refusal.
            await EventuallyAsync(async () => await GoodReplicasAsync(primary) == "0", "the primary counts no replica in sync", Deadline, pollMs: 250);
            using var lastLogout = federation.Backend("usa");
            var sentAt = clock.Elapsed;
            using var response = await lastLogout.SendAsync(Logout(federation.Mint("usa", $"hung-{Guid.NewGuid():N}"[..28])));
            lastRefusal = (response.StatusCode, clock.Elapsed - sentAt, await response.Content.ReadAsStringAsync());
        }
        finally
        {
            foreach (var pid in pids)
            {
                LocalProcesses.Signal(pid, UnixSignal.Cont);
            }
        }
        foreach (var line in federation.Logs.Lines.Where(l => l.Message.Contains("not acknowledged", StringComparison.Ordinal) || l.Message.Contains("NOREPLICAS", StringComparison.Ordinal)).Select(l => l.Message).Distinct().Take(5))
        {
            output.WriteLine(line);
        }
        var hungLogouts = logouts.Where(l => l.SentAt >= cut + TimeSpan.FromMilliseconds(200)).ToList();
        var hungChecks = checks.Where(c => c.SentAt >= cut + TimeSpan.FromMilliseconds(200)).ToList();
        // Two kinds of 503: the primary ran the script and WAIT timed out, or (once both replicas' last ack is older than
        // min-replicas-max-lag, 5 s) the primary refused the script at once with NOREPLICAS.
        var waited = hungLogouts.Where(l => l.Body.Contains(NotConfirmed, StringComparison.Ordinal)).ToList();
        var refused = hungLogouts.Where(l => l.Body.Contains(RevocationStore.NoReplicaInSync, StringComparison.Ordinal)).ToList();
        // The primary cannot refuse before then: the replicas' last ack is at most ~1 s before the SIGSTOP, lag counts
        // whole seconds; one more second of slack for a late replication cron on a loaded machine.
        var lagLimit = cut + federation.Ha.MinReplicasMaxLag - TimeSpan.FromSeconds(2);
        var waitedMedian = Median(waited.Select(l => l.Took));
        var checkMedian = Median(hungChecks.Select(c => c.Took));
        output.WriteLine($"replicas hung: {hungLogouts.Count} logouts ({string.Join(", ", hungLogouts.GroupBy(l => l.Status).Select(g => $"{g.Count()} x {(int)g.Key}"))}): " +
            $"{waited.Count} after WAIT, median {waitedMedian.TotalMilliseconds:F0} ms; {refused.Count} refused by the primary, the first sent " +
            $"{refused.Select(l => (l.SentAt - cut).TotalSeconds).DefaultIfEmpty(double.NaN).Min():F1} s after the cut (min_slaves_good_slaves {goodReplicas}); " +
            $"{hungChecks.Count} checks, median {checkMedian.TotalMilliseconds:F0} ms, max {hungChecks.Select(c => c.Took).DefaultIfEmpty().Max().TotalMilliseconds:F0} ms");

        Assert.NotEmpty(hungLogouts);
        // Never acknowledged while no replica answers, and every refusal is one of the two.
        Assert.All(hungLogouts, l => Assert.Equal(HttpStatusCode.ServiceUnavailable, l.Status));
        Assert.Empty(hungLogouts.Where(l => !waited.Contains(l) && !refused.Contains(l)).Select(l => l.Body));
        // Every write the primary took waited out its WAIT 1 1000 before its 503, and the first logouts all did.
        Assert.All(waited, l => Assert.True(l.Took >= TimeSpan.FromMilliseconds(900), $"a 503 after WAIT in {l.Took.TotalMilliseconds:F0} ms"));
        Assert.Contains(waited, l => l.SentAt < lagLimit);
        // A fast refusal only once the primary no longer counts the hung replicas (NOREPLICAS), never in the first seconds.
        Assert.All(refused, l => Assert.True(l.SentAt + l.Took >= lagLimit,
            $"refused by the store {(l.SentAt + l.Took - cut).TotalSeconds:F1} s after the cut, before min-replicas-max-lag could apply"));
        Assert.True(refused.Count == 0 || goodReplicas == "0", $"fast refusals while the primary counted {goodReplicas} good replicas");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, lastRefusal.Status);
        Assert.Contains(RevocationStore.NoReplicaInSync, lastRefusal.Body, StringComparison.Ordinal);
        Assert.True(lastRefusal.Took < TimeSpan.FromMilliseconds(900), $"a refusal with no WAIT in flight took {lastRefusal.Took.TotalMilliseconds:F0} ms");
        // The backend's console reaches the test through the orchestrator: a moment later.
        await EventuallyAsync(() => Task.FromResult(federation.Logs.Lines.Any(l => l.Message.Contains("no replica is in sync (NOREPLICAS)", StringComparison.Ordinal))),
            "the backend logs the refusal as NOREPLICAS", TimeSpan.FromSeconds(15), pollMs: 250);
        Assert.True(hungChecks.Count >= 10, $"only {hungChecks.Count} checks ran in 6 s");
        Assert.All(hungChecks, c => Assert.Equal(HttpStatusCode.OK, c.Status));
        // Not held up behind the WAITs: a check waiting for them would take about half a second or more.
        Assert.True(checkMedian * 4 < waitedMedian, $"revocation checks wait behind the logouts' WAIT: median {checkMedian.TotalMilliseconds:F0} ms vs {waitedMedian.TotalMilliseconds:F0} ms");

        // Leave the store taking revocations again (the primary counts a replica as good again only after its next ack).
        using var hub = federation.Backend("usa");
        await EventuallyAsync(async () =>
        {
            using var response = await hub.SendAsync(Logout(federation.Mint("usa", $"hung-{Guid.NewGuid():N}"[..28])));
            return response.StatusCode == HttpStatusCode.OK;
        }, "a logout acknowledged once the replicas are back", Deadline, pollMs: 250);
        await SteadyAsync();
    }

    private static HttpRequestMessage Logout(string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
        request.Headers.Authorization = new("Bearer", token);
        return request;
    }

    private HttpRequestMessage Check(string jti)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/blacklist/check")
        {
            Content = new StringContent($$"""{"jti":"{{jti}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", federation.Mint("usa", "hung-replicas-checker"));
        return request;
    }

    private async Task LoopAsync(List<(TimeSpan, HttpStatusCode, TimeSpan, string)> results, Func<HttpRequestMessage> next, Stopwatch clock, CancellationToken stop)
    {
        using var http = federation.Backend("usa");
        http.Timeout = TimeSpan.FromSeconds(30);
        while (!stop.IsCancellationRequested)
        {
            using var request = next();
            var sentAt = clock.Elapsed;
            using var response = await http.SendAsync(request, CancellationToken.None);
            var took = clock.Elapsed - sentAt;
            var body = response.StatusCode == HttpStatusCode.OK ? "" : await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK && results.Count < 3)
            {
                output.WriteLine($"{(int)response.StatusCode} after {took.TotalMilliseconds:F0} ms: {body}");
            }
            lock (results)
            {
                results.Add((sentAt, response.StatusCode, took, body));
            }
        }
    }

    /// <summary>The primary's min_slaves_good_slaves (INFO replication): the replicas it counts for min-replicas-to-write.</summary>
    private async Task<string?> GoodReplicasAsync(string node)
    {
        await using var connection = await federation.ConnectAsync(node);
        var info = await connection.GetServers()[0].InfoAsync("replication");
        return info.SelectMany(g => g).FirstOrDefault(kv => kv.Key == "min_slaves_good_slaves").Value;
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? TimeSpan.Zero : sorted[sorted.Count / 2];
    }

    private static async Task<DateTimeOffset> LastSyncAsync(HttpClient admin)
    {
        var (status, stats) = await GetAsync(admin, "/api/blacklist/stats");
        Assert.Equal(HttpStatusCode.OK, status);
        return stats.GetProperty("subscription").GetProperty("lastSync").GetDateTimeOffset();
    }

    /// <summary>The environment the AppHost started a backend with (connection strings, signing key, instance), without its ports.</summary>
    private Task<Dictionary<string, string>> BackendEnvironmentAsync(string name)
    {
        var notifications = federation.App.Services.GetRequiredService<ResourceNotificationService>();
        Assert.True(notifications.TryGetCurrentState(name, out var state), $"{name} has no state");
        var pid = state.Snapshot.Properties.Single(p => p.Name.EndsWith(".pid", StringComparison.Ordinal)).Value!.ToString()!;
        var values = DiveAspire.Cli.LocalProcesses.Environment(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture));
        return Task.FromResult(values.Where(kv => !kv.Key.Contains("URLS", StringComparison.Ordinal) && !kv.Key.Contains("PORTS", StringComparison.Ordinal)
                && !kv.Key.StartsWith("OTEL_", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    private async Task SteadyAsync() =>
        await EventuallyAsync(federation.SteadyAsync, "one primary and two replicas with their link up", Deadline, pollMs: 500);
}
