using System.Text.Json;

namespace DiveAspire.Tests.Cli;

/// <summary>
/// What changes the HA store, on a store of its own (<see cref="SentinelStoreProcesses"/>): `dive redis sentinel
/// failover --yes` moves the primary and the old one rejoins as a replica; then the loss of a replica and of two
/// Sentinels is what `sentinel status` and `health blacklist` report, with exit 1.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RedisSentinelFailoverCliTests(SentinelStoreProcesses store) : IClassFixture<SentinelStoreProcesses>, IDisposable
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);
    private readonly EnvironmentScope _env = store.Environment();

    public void Dispose() => _env.Dispose();

    private Task<CliRun> Dive(params string[] args) => CliRun.RunAsync(store.Passwords, args);

    /// <summary>One test, in order: each step starts from the state the previous one left.</summary>
    [Fact]
    public async Task Failover_then_a_lost_replica_then_a_lost_quorum_are_reported()
    {
        // 1. Failover: a replica becomes primary, every Sentinel agrees, the old primary rejoins as a replica.
        var failover = (await Dive("redis", "sentinel", "failover", "--yes", "--json")).Expect(0).Json;
        Assert.StartsWith("redis-blacklist (", failover.GetProperty("oldPrimary").GetString());
        var newPrimary = failover.GetProperty("newPrimary").GetString()!;
        Assert.StartsWith("redis-blacklist-replica-", newPrimary);
        Assert.InRange(failover.GetProperty("seconds").GetDouble(), 0, 60);

        var status = await StatusUntilAsync(s => s.GetProperty("replicas").EnumerateArray().Count(r => r.GetProperty("online").GetBoolean()) == 2, 0);
        Assert.Equal(newPrimary.Split(' ')[0], status.GetProperty("primary").GetProperty("name").GetString());
        Assert.Contains("redis-blacklist", status.GetProperty("replicas").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.True(status.GetProperty("lastFailover").GetProperty("configEpoch").GetInt64() >= 1);
        Assert.Contains("failovers   configuration epoch", (await Dive("redis", "sentinel", "status")).Expect(0).Out);

        // 2. kill -9 of one replica: status and health name it, exit 1; the quorum is intact.
        var primaryName = status.GetProperty("primary").GetProperty("name").GetString()!;
        var victim = status.GetProperty("replicas").EnumerateArray().Select(r => r.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).First();
        store.KillNode(store.Ha.DataNodes.Select(n => n.ResourceName).ToList().IndexOf(victim));
        status = await StatusUntilAsync(s => s.GetProperty("replicas").EnumerateArray().Count(r => r.GetProperty("online").GetBoolean()) == 1, 1);
        Assert.Contains("1 of 2 planned replicas are online", status.GetProperty("problems").EnumerateArray().Select(p => p.GetString()));
        Assert.True(status.GetProperty("quorumReachable").GetBoolean());
        _env.Set("DIVE_REDIS_ENDPOINT_BLACKLIST", PrimaryEndpoint(status));
        var health = (await Dive("redis", "health", "blacklist", "--json")).Expect(1).Json;
        var checks = health.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c);
        Assert.False(checks["replication"].GetProperty("passed").GetBoolean());
        Assert.Contains($"primary {primaryName}, 1 of 2 replicas online", checks["replication"].GetProperty("detail").GetString());
        Assert.True(checks["quorum"].GetProperty("passed").GetBoolean());

        // 3. Two of three Sentinels gone: no failover could be authorised any more.
        store.KillSentinel(1);
        store.KillSentinel(2);
        status = await StatusUntilAsync(s => !s.GetProperty("quorumReachable").GetBoolean(), 1);
        Assert.Contains(status.GetProperty("problems").EnumerateArray(), p => p.GetString()!.StartsWith("quorum not reachable: ", StringComparison.Ordinal));
        Assert.Equal(1, status.GetProperty("sentinels").EnumerateArray().Count(s => s.GetProperty("reachable").GetBoolean()));
        var text = (await Dive("redis", "sentinel", "status")).Expect(1).Out;
        Assert.Contains("quorum      NOT REACHABLE", text);
        Assert.Contains("1/3 Sentinels up", text);
        health = (await Dive("redis", "health", "blacklist", "--json")).Expect(1).Json;
        checks = health.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c);
        Assert.False(checks["quorum"].GetProperty("passed").GetBoolean());
        Assert.Contains("1 of 3 Sentinels answer (quorum 2)", checks["quorum"].GetProperty("detail").GetString());

        // 4. The last replica gone too: the Sentinel refuses a failover (no replica to promote), one line, exit 1.
        var last = status.GetProperty("replicas").EnumerateArray().Single(r => r.GetProperty("online").GetBoolean()).GetProperty("name").GetString()!;
        store.KillNode(store.Ha.DataNodes.Select(n => n.ResourceName).ToList().IndexOf(last));
        await StatusUntilAsync(s => s.GetProperty("replicas").EnumerateArray().All(r => !r.GetProperty("online").GetBoolean()), 1);
        var refused = (await Dive("redis", "sentinel", "failover", "--yes")).Expect(1).OneLineError;
        Assert.Contains("refused SENTINEL FAILOVER: NOGOODSLAVE", refused);
    }

    private static string PrimaryEndpoint(JsonElement status) => status.GetProperty("primary").GetProperty("endpoint").GetString()!;

    private async Task<JsonElement> StatusUntilAsync(Func<JsonElement, bool> done, int exitCode)
    {
        var deadline = DateTime.UtcNow + Settle;
        while (true)
        {
            var run = await Dive("redis", "sentinel", "status", "--json");
            if (run.ExitCode == exitCode && run.Out.TrimStart().StartsWith('{') && done(run.Json))
            {
                return run.Json;
            }
            Assert.True(DateTime.UtcNow < deadline, $"sentinel status did not reach the expected state within {Settle.TotalSeconds:0} s; last (exit {run.ExitCode}):\n{run.Out}\n{run.Error}");
            await Task.Delay(500);
        }
    }
}
