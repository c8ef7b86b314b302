using System.Text.Json;

namespace DiveAspire.Tests.Cli;

/// <summary>
/// `dive redis sentinel status|failover --dry-run|--help` and `dive redis health blacklist` with HA, against a real
/// primary, two replicas and three Sentinels (<see cref="SentinelStoreProcesses"/>). Nothing here changes the store:
/// the failover and the loss of nodes are in <see cref="RedisSentinelFailoverCliTests"/>.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RedisSentinelCliTests(SentinelStoreProcesses store) : IClassFixture<SentinelStoreProcesses>, IDisposable
{
    private readonly EnvironmentScope _env = store.Environment();

    public void Dispose() => _env.Dispose();

    private Task<CliRun> Dive(params string[] args) => CliRun.RunAsync(store.Passwords, args);

    [Fact]
    public async Task Status_names_the_primary_both_replicas_with_their_lag_every_sentinel_and_the_quorum()
    {
        var json = (await Dive("redis", "sentinel", "status", "--json")).Expect(0).Json;
        Assert.Equal("dive-blacklist", json.GetProperty("service").GetString());
        Assert.Equal(2, json.GetProperty("quorum").GetInt32());
        var primary = json.GetProperty("primary");
        Assert.Equal("redis-blacklist", primary.GetProperty("name").GetString());
        Assert.True(primary.GetProperty("reachable").GetBoolean());
        Assert.Equal(2, primary.GetProperty("connectedReplicas").GetInt64());
        var replicas = json.GetProperty("replicas").EnumerateArray().ToList();
        Assert.Equal(["redis-blacklist-replica-1", "redis-blacklist-replica-2"], replicas.Select(r => r.GetProperty("name").GetString()));
        Assert.All(replicas, r =>
        {
            Assert.True(r.GetProperty("online").GetBoolean());
            Assert.InRange(r.GetProperty("lagSeconds").GetInt64(), 0, 5);
            Assert.Equal(JsonValueKind.Number, r.GetProperty("lagBytes").ValueKind);
        });
        var sentinels = json.GetProperty("sentinels").EnumerateArray().ToList();
        Assert.Equal(["redis-blacklist-sentinel-1", "redis-blacklist-sentinel-2", "redis-blacklist-sentinel-3"], sentinels.Select(s => s.GetProperty("name").GetString()));
        Assert.All(sentinels, s => Assert.True(s.GetProperty("quorumReachable").GetBoolean()));
        Assert.True(json.GetProperty("quorumReachable").GetBoolean());
        Assert.Equal(0, json.GetProperty("lastFailover").GetProperty("configEpoch").GetInt64());
        Assert.Empty(json.GetProperty("problems").EnumerateArray());

        var text = (await Dive("redis", "sentinel", "status")).Expect(0).Out;
        Assert.Contains($"primary     redis-blacklist (127.0.0.1:{store.NodePorts[0]}) answers, 2 replicas connected", text);
        Assert.Contains("quorum      reachable: OK 3 usable Sentinels", text);
        Assert.Contains("failovers   none since the store was created", text);
        Assert.Contains("3/3 Sentinels up, 2 replicas online.", text);
        Assert.DoesNotContain("PROBLEM", text);
    }

    [Fact]
    public async Task Health_of_the_shared_store_also_checks_replication_and_quorum()
    {
        var json = (await Dive("redis", "health", "blacklist", "--json")).Expect(0).Json;
        var checks = json.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c);
        Assert.True(checks["replication"].GetProperty("passed").GetBoolean());
        Assert.Contains("primary redis-blacklist, 2 of 2 replicas online", checks["replication"].GetProperty("detail").GetString());
        Assert.True(checks["quorum"].GetProperty("passed").GetBoolean());
        Assert.Contains("3 of 3 Sentinels answer (quorum 2)", checks["quorum"].GetProperty("detail").GetString());

        // Without HA (the running app has no Sentinels) the same command keeps its single-node checks.
        _env.Set("DIVE_BLACKLIST_HA", "false");
        var single = (await Dive("redis", "health", "blacklist", "--json")).Json;
        var names = single.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.DoesNotContain("replication", names);
        Assert.DoesNotContain("quorum", names);
    }

    [Fact]
    public async Task Dry_runs_name_every_sentinel_and_contact_nothing()
    {
        // Closed ports: a dry run that connected would fail.
        var closed = string.Join(',', Enumerable.Range(0, 3).Select(_ => $"127.0.0.1:{FreePort.Next()}"));
        var status = (await Dive("redis", "sentinel", "status", "--dry-run", "--sentinels", closed)).Expect(0).Out;
        Assert.Contains("nothing was contacted or changed", status);
        foreach (var endpoint in closed.Split(','))
        {
            Assert.Contains($"redis-blacklist-sentinel-", status);
            Assert.Contains(endpoint, status);
        }
        var failover = (await Dive("redis", "sentinel", "failover", "--dry-run", "--sentinels", closed, "--json")).Expect(0).Json;
        Assert.True(failover.GetProperty("dryRun").GetBoolean());
        Assert.Contains("SENTINEL FAILOVER dive-blacklist", failover.GetProperty("steps")[0].GetProperty("action").GetString());
        Assert.Contains("connect as admin", failover.GetProperty("steps")[0].GetProperty("action").GetString());

        var health = (await Dive("redis", "health", "blacklist", "--dry-run")).Expect(0).Out;
        Assert.Contains("SENTINEL MASTER, REPLICAS and CKQUORUM dive-blacklist", health);
    }

    [Fact]
    public async Task Failover_refuses_without_confirmation_when_stdin_is_not_a_terminal()
    {
        Assert.True(Console.IsInputRedirected, "the test host's stdin must not be a terminal for this test");
        var error = (await Dive("redis", "sentinel", "failover")).Expect(2).OneLineError;
        Assert.Contains("--yes", error);
        Assert.Contains("not a terminal", error);
        var json = (await Dive("redis", "sentinel", "status", "--json")).Expect(0).Json;
        Assert.Equal("redis-blacklist", json.GetProperty("primary").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Help_and_usage_mistakes()
    {
        var help = (await Dive("redis", "sentinel", "--help")).Expect(0).Out;
        Assert.Contains("status", help);
        Assert.Contains("failover", help);
        Assert.Contains("dive-blacklist", help);
        Assert.Contains("--yes", (await Dive("redis", "sentinel", "failover", "--help")).Expect(0).Out);

        Assert.Contains("valid: status, failover", (await Dive("redis", "sentinel")).Expect(2).OneLineError);
        Assert.Contains("unknown command 'redis sentinel promote'", (await Dive("redis", "sentinel", "promote")).Expect(2).OneLineError);
        Assert.Contains("--sentinels must list 3", (await Dive("redis", "sentinel", "status", "--sentinels", "127.0.0.1:1")).Expect(2).OneLineError);
        Assert.Contains("host:port", (await Dive("redis", "sentinel", "status", "--sentinels", "a,b,c")).Expect(2).OneLineError);
        Assert.Contains("--secrets", (await Dive("redis", "sentinel", "status", "--secrets", "vault")).Expect(2).OneLineError);
    }

    [Fact]
    public async Task No_sentinel_answering_is_one_line_and_exit_1()
    {
        var closed = string.Join(',', Enumerable.Range(0, 3).Select(_ => $"127.0.0.1:{FreePort.Next()}"));
        var error = (await Dive("redis", "sentinel", "status", "--sentinels", closed)).Expect(1).OneLineError;
        Assert.Contains("No Sentinel of dive-blacklist answers", error);
        Assert.Contains(closed.Split(',')[0], error);
        Assert.Contains("No Sentinel of dive-blacklist accepted the failover", (await Dive("redis", "sentinel", "failover", "--yes", "--sentinels", closed)).Expect(1).OneLineError);
    }

    [Fact]
    public async Task A_wrong_password_is_one_line_naming_the_secret_to_fix()
    {
        _env.Set("REDIS_PASSWORD_BLACKLIST_OPERATOR", "not-the-password");
        var json = (await Dive("redis", "sentinel", "status", "--json")).Expect(1);
        Assert.Contains("REDIS_PASSWORD_BLACKLIST_OPERATOR", json.OneLineError);
    }
}
