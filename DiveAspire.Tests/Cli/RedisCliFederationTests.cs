using System.Text.Json;
using DiveAspire.Cli.Operations;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Tests.Cli;

/// <summary>`dive redis` run in-process against the real test federation (hub USA, spokes ROU and BEL).</summary>
[Collection(FederationCollection.Name)]
public sealed class RedisCliFederationTests(FederationFixture fixture) : FederationCliTests(fixture)
{
    private const long Mb = 1024 * 1024;

    [Theory]
    [InlineData("usa", 512)]
    [InlineData("rou", 256)]
    [InlineData("blacklist", 256)]
    public async Task Status_reports_a_running_redis(string instance, long maxMb)
    {
        var json = (await Dive("redis", "status", instance, "--json")).Expect(0).Json;
        Assert.True(json.GetProperty("reachable").GetBoolean());
        Assert.StartsWith("7.", json.GetProperty("version").GetString());
        Assert.Equal("master", json.GetProperty("role").GetString());
        Assert.Equal(maxMb * Mb, json.GetProperty("maxMemoryBytes").GetInt64());
        Assert.True(json.GetProperty("aof").GetBoolean());
        Assert.Equal(instance == "blacklist" ? "noeviction" : "allkeys-lru", json.GetProperty("evictionPolicy").GetString());
        Assert.True(json.GetProperty("clients").GetInt64() >= 1);
        Assert.True(json.GetProperty("uptimeSeconds").GetInt64() >= 0);
        Assert.False(json.TryGetProperty("password", out _));

        var text = (await Dive("redis", "status", instance)).Expect(0).Out;
        Assert.Contains("reachable   yes", text);
        Assert.Contains("aof         on", text);
    }

    [Fact]
    public async Task Status_defaults_to_the_hub()
    {
        var json = (await Dive("redis", "status", "--json")).Expect(0).Json;
        Assert.Equal("redis-usa", json.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Status_all_shows_every_redis_and_fails_when_one_is_unreachable()
    {
        var running = (await Dive("redis", "status-all", "--spokes", "rou,bel", "--json")).Expect(0).Json;
        var rows = running.GetProperty("redis").EnumerateArray().ToList();
        Assert.Equal(["redis-blacklist", "redis-usa", "redis-bel", "redis-rou"], rows.Select(r => r.GetProperty("name").GetString()));
        Assert.All(rows, r => Assert.True(r.GetProperty("reachable").GetBoolean()));

        // instances/ also has DNK, which this federation does not run.
        var all = await Dive("redis", "status-all", "--json");
        all.Expect(1);
        var dnk = all.Json.GetProperty("redis").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "redis-dnk");
        Assert.False(dnk.GetProperty("reachable").GetBoolean());
        Assert.Contains(dnk.GetProperty("endpoint").GetString()!, dnk.GetProperty("lastError").GetString());
        Assert.Equal(4, all.Json.GetProperty("reachable").GetInt32());

        var table = (await Dive("redis", "status-all")).Expect(1).Out;
        Assert.Contains("REDIS", table);
        Assert.Contains("4/5 reachable.", table);
    }

    [Theory]
    [InlineData("usa")]
    [InlineData("bel")]
    [InlineData("blacklist")]
    public async Task Health_passes_on_the_configured_redis(string instance)
    {
        var json = (await Dive("redis", "health", instance, "--json")).Expect(0).Json;
        Assert.Equal(7, json.GetProperty("passed").GetInt32());
        Assert.Contains(json.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "acl" && c.GetProperty("passed").GetBoolean());
        Assert.True(json.GetProperty("healthy").GetBoolean());
        Assert.Contains("Checks passed: 7/7", (await Dive("redis", "health", instance)).Expect(0).Out);
    }

    [Fact]
    public async Task Stats_count_hits_and_misses()
    {
        await using var connection = await Federation.ConnectAsync("redis-bel");
        var db = connection.GetDatabase();
        var before = (await Dive("redis", "stats", "bel", "--json")).Expect(0).Json;
        await db.StringSetAsync("cli-stats:hit", "1");
        await db.StringGetAsync("cli-stats:hit");
        await db.StringGetAsync("cli-stats:miss");
        var after = (await Dive("redis", "stats", "bel", "--json")).Expect(0).Json;

        Assert.True(after.GetProperty("keyspaceHits").GetInt64() >= before.GetProperty("keyspaceHits").GetInt64() + 1);
        Assert.True(after.GetProperty("keyspaceMisses").GetInt64() >= before.GetProperty("keyspaceMisses").GetInt64() + 1);
        var rate = after.GetProperty("hitRatePercent").GetDouble();
        Assert.InRange(rate, 0, 100);
        Assert.Equal(256 * Mb, after.GetProperty("memory").GetProperty("maxBytes").GetInt64());
        Assert.True(after.GetProperty("memory").GetProperty("usedBytes").GetInt64() > 0);
        Assert.Contains("hit rate", (await Dive("redis", "stats", "bel")).Expect(0).Out);
    }

    [Fact]
    public async Task Flush_empties_only_the_named_instance()
    {
        await using var rou = await Federation.ConnectAsync("redis-rou");
        await using var bel = await Federation.ConnectAsync("redis-bel");
        await using var shared = await Federation.ConnectAsync("redis-blacklist");
        for (var i = 0; i < 5; i++)
        {
            await rou.GetDatabase().StringSetAsync($"cli-flush:{i}", i);
        }
        await bel.GetDatabase().StringSetAsync("cli-flush:keep", 1);
        await shared.GetDatabase().StringSetAsync("blacklist:cli-flush-keep", 1, TimeSpan.FromMinutes(5));

        // No terminal and no --yes: refused, nothing deleted.
        (await Dive("redis", "flush", "rou")).Expect(2);
        Assert.True(await rou.GetDatabase().KeyExistsAsync("cli-flush:0"));

        var dry = (await Dive("redis", "flush", "rou", "--dry-run", "--json")).Expect(0).Json;
        Assert.True(dry.GetProperty("dryRun").GetBoolean());
        Assert.True(dry.GetProperty("keysBefore").GetInt64() >= 5);
        Assert.True(await rou.GetDatabase().KeyExistsAsync("cli-flush:0"));

        var done = (await Dive("redis", "flush", "rou", "--yes", "--json")).Expect(0).Json;
        Assert.Equal(0, done.GetProperty("keysAfter").GetInt64());
        Assert.True(done.GetProperty("keysBefore").GetInt64() >= 5);
        Assert.Equal(0, await rou.GetServers()[0].DatabaseSizeAsync());
        Assert.True(await bel.GetDatabase().KeyExistsAsync("cli-flush:keep"));
        Assert.True(await shared.GetDatabase().KeyExistsAsync("blacklist:cli-flush-keep"));
        await bel.GetDatabase().KeyDeleteAsync("cli-flush:keep");
        await shared.GetDatabase().KeyDeleteAsync("blacklist:cli-flush-keep");
    }

    [Fact]
    public async Task Flush_refuses_the_shared_store_and_points_to_blacklist_clear()
    {
        var error = (await Dive("redis", "flush", "blacklist", "--yes")).Expect(2).OneLineError;
        Assert.Contains("blacklist clear", error);
    }

    [Fact]
    public async Task Blacklist_status_counts_revocations_with_scan_and_lists_subscribers()
    {
        await using var shared = await Federation.ConnectAsync("redis-blacklist");
        var db = shared.GetDatabase();
        var before = (await Dive("redis", "blacklist", "status", "--spokes", "rou,bel", "--json")).Expect(0).Json;

        var id = Guid.NewGuid().ToString("N");
        for (var i = 0; i < 3; i++)
        {
            await db.StringSetAsync($"blacklist:cli-{id}-{i}", "{}", TimeSpan.FromMinutes(5));
        }
        await db.StringSetAsync($"user-revoked:cli-{id}", "{}", TimeSpan.FromMinutes(5));
        await db.StringSetAsync($"unrelated:cli-{id}", "x", TimeSpan.FromMinutes(5));
        // A real subscriber on the token channel, so NUMSUB must count one more.
        await using var listener = await Federation.ConnectAsync("redis-blacklist");
        await listener.GetSubscriber().SubscribeAsync(RedisChannel.Literal("dive-v3:token-blacklist"), (_, _) => { });

        var after = (await Dive("redis", "blacklist", "status", "--spokes", "rou,bel", "--json")).Expect(0).Json;
        Assert.Equal(before.GetProperty("revokedTokens").GetInt64() + 3, after.GetProperty("revokedTokens").GetInt64());
        Assert.Equal(before.GetProperty("revokedUsers").GetInt64() + 1, after.GetProperty("revokedUsers").GetInt64());
        var subscribers = after.GetProperty("subscribers");
        Assert.Equal(before.GetProperty("subscribers").GetProperty("dive-v3:token-blacklist").GetInt64() + 1,
            subscribers.GetProperty("dive-v3:token-blacklist").GetInt64());
        Assert.True(subscribers.TryGetProperty("dive-v3:user-revoked", out _));

        // Every running backend holds a named connection to the shared store.
        var backends = after.GetProperty("backends").EnumerateArray().ToDictionary(b => b.GetProperty("instance").GetString()!);
        Assert.Equal(["USA", "BEL", "ROU"], backends.Keys);
        Assert.All(backends.Values, b => Assert.True(b.GetProperty("connected").GetBoolean()));

        var text = (await Dive("redis", "blacklist", "status")).Expect(0).Out;
        Assert.Contains("revoked tokens", text);
        Assert.Contains("DNK", text);
        await db.KeyDeleteAsync([$"blacklist:cli-{id}-0", $"blacklist:cli-{id}-1", $"blacklist:cli-{id}-2", $"user-revoked:cli-{id}", $"unrelated:cli-{id}"]);
    }

    [Fact]
    public async Task Blacklist_status_does_not_count_a_client_that_only_borrows_a_backends_name()
    {
        // ROU's backend user may name its connections anything (CLIENT SETNAME is @connection): it names one after DNK's
        // backend, which is not running, and subscribes. DNK must still show as not connected, and the client as suspicious.
        var rou = Federation.Topology.Instances.Single(i => i.Code == "ROU");
        var options = ConfigurationOptions.Parse(await Federation.ConnectionStringAsync("redis-blacklist") + RedisAcl.ClientOptions);
        options.User = RedisAcl.Backend(Federation.Topology.Blacklist, rou).Name;
        options.Password = Federation.Secrets.For(RedisAcl.Backend(Federation.Topology.Blacklist, rou));
        options.ClientName = BlacklistOperations.BackendClientName("DNK");
        await using var impostor = await ConnectionMultiplexer.ConnectAsync(options);
        await impostor.GetSubscriber().SubscribeAsync(RedisChannel.Literal(BlacklistOperations.TokenChannel), (_, _) => { });

        var run = (await Dive("redis", "blacklist", "status", "--json")).Expect(0);
        var dnk = run.Json.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("instance").GetString() == "DNK");
        Assert.False(dnk.GetProperty("connected").GetBoolean());
        Assert.False(dnk.GetProperty("subscribed").GetBoolean());
        // Both of the impostor's connections (commands and subscriptions) carry the borrowed name.
        var suspicious = run.Json.GetProperty("impostors").EnumerateArray().ToList();
        Assert.NotEmpty(suspicious);
        Assert.All(suspicious, client => Assert.Equal(("dive-backend-dnk-blacklist", "backend-rou"),
            (client.GetProperty("clientName").GetString(), client.GetProperty("user").GetString())));
        // The real backends still count.
        var rouStatus = run.Json.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("instance").GetString() == "ROU");
        Assert.True(rouStatus.GetProperty("subscribed").GetBoolean());

        var text = (await Dive("redis", "blacklist", "status")).Expect(0).Out;
        Assert.Contains("WARNING: a client at", text);
        Assert.Contains("logged in as 'backend-rou'", text);
    }

    [Fact]
    public async Task Blacklist_clear_deletes_only_revocations_and_asks_first()
    {
        await using var shared = await Federation.ConnectAsync("redis-blacklist");
        var db = shared.GetDatabase();
        var id = Guid.NewGuid().ToString("N");
        await db.StringSetAsync($"blacklist:cli-{id}", "{}", TimeSpan.FromMinutes(5));
        await db.StringSetAsync($"user-revoked:cli-{id}", "{}", TimeSpan.FromMinutes(5));
        await db.StringSetAsync($"unrelated:cli-{id}", "x", TimeSpan.FromMinutes(5));

        (await Dive("redis", "blacklist", "clear")).Expect(2);
        var dry = (await Dive("redis", "blacklist", "clear", "--dry-run", "--json")).Expect(0).Json;
        Assert.True(dry.GetProperty("tokensDeleted").GetInt64() >= 1);
        Assert.True(await db.KeyExistsAsync($"blacklist:cli-{id}"));

        var done = (await Dive("redis", "blacklist", "clear", "--yes", "--json")).Expect(0).Json;
        Assert.True(done.GetProperty("tokensDeleted").GetInt64() >= 1);
        Assert.True(done.GetProperty("usersDeleted").GetInt64() >= 1);
        Assert.False(await db.KeyExistsAsync($"blacklist:cli-{id}"));
        Assert.False(await db.KeyExistsAsync($"user-revoked:cli-{id}"));
        Assert.True(await db.KeyExistsAsync($"unrelated:cli-{id}"));
        await db.KeyDeleteAsync($"unrelated:cli-{id}");
    }

    [Fact]
    public async Task Wrong_password_for_a_running_redis_is_one_line_and_exit_1()
    {
        // Reading logs in as operator (issue 13), so its password is the one that is wrong here.
        using var wrong = new EnvironmentScope().Set("REDIS_PASSWORD_ROU_OPERATOR", "wrong-" + Guid.NewGuid().ToString("N"));
        var error = (await Dive("redis", "health", "rou")).Expect(1).OneLineError;
        Assert.Contains("REDIS_PASSWORD_ROU_OPERATOR", error);
        Assert.Contains("user 'operator'", error);
    }

    [Fact]
    public async Task Wrong_admin_password_fails_only_the_acl_check_and_names_the_secret()
    {
        using var wrong = new EnvironmentScope().Set("REDIS_PASSWORD_ROU", "wrong-" + Guid.NewGuid().ToString("N"));
        var json = (await Dive("redis", "health", "rou", "--json")).Expect(1).Json;
        var failed = Assert.Single(json.GetProperty("checks").EnumerateArray(), c => !c.GetProperty("passed").GetBoolean());
        Assert.Equal("acl", failed.GetProperty("name").GetString());
        Assert.Contains("REDIS_PASSWORD_ROU", failed.GetProperty("detail").GetString());
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task A_command_the_user_may_not_run_is_one_line_naming_the_user_and_the_command()
    {
        // Status shows who reads: the operator.
        Assert.Equal("operator", (await Dive("redis", "status", "rou", "--json")).Expect(0).Json.GetProperty("user").GetString());
        Assert.Contains("operator", (await Dive("redis", "status", "rou")).Expect(0).Out);

        // The CLI never sends a command its user may not run, so one is sent here through its library to get NOPERM.
        var spec = Federation.Topology.RedisStores.Single(s => s.ResourceName == "redis-rou");
        var (host, port) = await Federation.RedisEndpointAsync("redis-rou");
        var target = new DiveAspire.Cli.Connections.RedisTarget(spec, host, port, "operator", Federation.Secrets.For(DiveAspire.Topology.RedisAcl.Operator(spec)), "test");
        await using var connection = await DiveAspire.Cli.Operations.RedisConnector.ConnectAsync(target);
        var refused = await Assert.ThrowsAsync<StackExchange.Redis.RedisServerException>(() => connection.GetDatabase().ExecuteAsync("FLUSHALL"));
        var error = DiveAspire.Cli.Operations.RedisConnector.Describe(target, refused).Message;
        Assert.Equal($"redis-rou ({host}:{port}) refused 'flushall' to user 'operator' (NOPERM): this user may not do that; see the users table in README.md (Secrets).", error);
    }

    [Fact]
    public async Task Endpoint_option_overrides_the_topology_port()
    {
        var (host, port) = await Federation.RedisEndpointAsync("redis-usa");
        using var env = new EnvironmentScope().Set("DIVE_REDIS_ENDPOINT_USA", $"127.0.0.1:{FreePort.Next()}");
        (await Dive("redis", "status", "usa")).Expect(1);
        var json = (await Dive("redis", "status", "usa", "--endpoint", $"{host}:{port}", "--json")).Expect(0).Json;
        Assert.Equal($"{host}:{port}", json.GetProperty("endpoint").GetString());
    }
}
