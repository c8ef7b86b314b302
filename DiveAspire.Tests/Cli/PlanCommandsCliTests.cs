using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using DiveAspire.Tests.Infrastructure;
using StackExchange.Redis;

namespace DiveAspire.Tests.Cli;

/// <summary>
/// The original plan's commands and checks, run as the plan writes them, in-process against the real test federation
/// (hub USA, spokes ROU and BEL, no monitoring; instances/ also has DNK, which does not run).
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class PlanCommandsCliTests(FederationFixture fixture) : FederationCliTests(fixture), IDisposable
{
    // By default no running app is found (whatever runs in this checkout): commands take instances/, DNK included.
    // This federation has no monitoring: Prometheus is pointed at a closed port, whatever listens on 9090 here.
    private readonly EnvironmentScope _noApp = new EnvironmentScope()
        .Set("DIVE_DATA_PATH", Path.Combine(Path.GetTempPath(), $"dive-no-app-{Guid.NewGuid():N}"))
        .Set("DIVE_PROMETHEUS_URL", $"http://127.0.0.1:{FreePort.Next()}");

    public void Dispose() => _noApp.Dispose();

    /// <summary>The running AppHost's state file is in the fixture's data directory.</summary>
    private EnvironmentScope RunningApp() => new EnvironmentScope().Set("DIVE_DATA_PATH", Federation.DataPath);

    [Theory]
    [InlineData("redis", "status")]
    [InlineData("redis", "status", "rou")]
    [InlineData("redis", "status-all")]
    [InlineData("redis", "health", "bel")]
    [InlineData("redis", "stats")]
    [InlineData("redis", "blacklist", "status")]
    [InlineData("redis", "blacklist", "sync")]
    [InlineData("redis", "rate-limits", "show")]
    [InlineData("redis", "metrics")]
    [InlineData("redis", "alerts")]
    [InlineData("health")]
    [InlineData("ps")]
    [InlineData("hub", "verify")]
    [InlineData("hub", "status")]
    [InlineData("spoke", "status", "rou")]
    [InlineData("spoke", "status-all")]
    [InlineData("spoke", "verify", "rou")]
    [InlineData("spoke", "verify-federation")]
    public async Task Dry_run_prints_what_it_would_do_and_contacts_nothing(params string[] command)
    {
        // Every endpoint points at a closed port: a command that contacted anything would fail.
        var closed = FreePort.Next();
        using var nowhere = new EnvironmentScope()
            .Set("DIVE_PROMETHEUS_URL", $"http://127.0.0.1:{closed}")
            .Set("DIVE_DATA_PATH", Path.Combine(Path.GetTempPath(), $"dive-no-app-{Guid.NewGuid():N}"));
        foreach (var code in new[] { "USA", "ROU", "BEL", "DNK", "BLACKLIST" })
        {
            nowhere.Set($"DIVE_REDIS_ENDPOINT_{code}", $"127.0.0.1:{closed}");
            if (code != "BLACKLIST")
            {
                nowhere.Set($"DIVE_BACKEND_ENDPOINT_{code}", $"http://127.0.0.1:{closed}");
            }
        }

        var text = (await Dive([.. command, "--dry-run"])).Expect(0).Out;
        Assert.StartsWith($"Dry run of 'dive {string.Join(' ', command.TakeWhile(w => w is not ("rou" or "bel")))}': nothing was contacted or changed.", text);
        var json = (await Dive([.. command, "--dry-run", "--json"])).Expect(0).Json;
        Assert.True(json.GetProperty("dryRun").GetBoolean());
        Assert.NotEmpty(json.GetProperty("steps").EnumerateArray());
    }

    [Fact]
    public async Task Status_dry_run_names_the_target_which_a_real_status_would_fail_to_reach()
    {
        var closed = FreePort.Next();
        using var stopped = new EnvironmentScope().Set("DIVE_REDIS_ENDPOINT_USA", $"127.0.0.1:{closed}");
        var plan = (await Dive("redis", "status", "--dry-run")).Expect(0).Out;
        Assert.Contains($"redis-usa (127.0.0.1:{closed}): connect as operator with the password from ", plan);
        Assert.Contains("then INFO (read-only)", plan);
        (await Dive("redis", "status")).Expect(1);
    }

    [Fact]
    public async Task Flush_dry_run_leaves_every_key_in_place()
    {
        await using var rou = await Federation.ConnectAsync("redis-rou");
        var key = $"plan-dry-run:{Guid.NewGuid():N}";
        await rou.GetDatabase().StringSetAsync(key, "1", TimeSpan.FromMinutes(5));
        Assert.Contains("Nothing was changed", (await Dive("redis", "flush", "rou", "--dry-run")).Expect(0).Out);
        Assert.True(await rou.GetDatabase().KeyExistsAsync(key));
        await rou.GetDatabase().KeyDeleteAsync(key);
    }

    [Fact]
    public async Task Stats_print_connected_clients_as_the_plan_greps_it()
    {
        var text = (await Dive("redis", "stats")).Expect(0).Out;
        var line = Regex.Match(text, @"^connected_clients: (\d+)$", RegexOptions.Multiline);
        Assert.True(line.Success, text);
        // At least the three backends' connections and this CLI's own.
        Assert.True(int.Parse(line.Groups[1].Value) >= 2, text);
        Assert.Contains("Connections", text);
    }

    [Fact]
    public async Task Blacklist_status_says_connected_3_for_the_three_subscribed_backends()
    {
        var text = (await Dive("redis", "blacklist", "status")).Expect(0).Out;
        Assert.Matches(new Regex("^connected: 3$", RegexOptions.Multiline), text);
        Assert.Contains("BACKEND", text);
    }

    [Fact]
    public async Task After_110_requests_rate_limits_show_lists_the_client_with_its_ip()
    {
        var user = "plan-rl-" + Guid.NewGuid().ToString("N")[..8];
        using var http = Federation.Backend("usa", Federation.Mint("usa", user));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 110; i++)
        {
            using var response = await http.GetAsync("/api/resources");
            statuses.Add(response.StatusCode);
        }
        Assert.Equal(100, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.TooManyRequests));

        var text = (await Dive("redis", "rate-limits", "show")).Expect(0).Out;
        Assert.Contains("ACTIVE KEYS", text);
        var line = text.Split('\n').Single(l => l.Contains($"user: {user}", StringComparison.Ordinal));
        Assert.Contains("limiter: api", line);
        // The plan greps "ip: 127.0.0.1"; where localhost resolves to ::1 first (a Debian /etc/hosts) the backend sees ::1.
        var ip = System.Text.RegularExpressions.Regex.Match(line, @"ip: (127\.0\.0\.1|::1)\b");
        Assert.True(ip.Success, $"no loopback client address in: {line}");

        var json = (await Dive("redis", "rate-limits", "show", "--json")).Expect(0).Json;
        Assert.Contains($"{user}:{ip.Groups[1].Value}", json.GetProperty("clients").GetProperty("api").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task Health_shows_every_running_instance_and_fails_when_a_backend_is_unreachable()
    {
        using var app = RunningApp();
        var json = (await Dive("health", "--json")).Expect(0).Json;
        Assert.True(json.GetProperty("appRunning").GetBoolean());
        var components = json.GetProperty("components").EnumerateArray().ToDictionary(c => c.GetProperty("component").GetString()!, c => c.GetProperty("state").GetString());
        // DNK is in instances/ but the running app does not run it: not listed.
        Assert.Equal(
            ["redis-blacklist", "redis-usa", "redis-bel", "redis-rou", "backend-usa", "backend-bel", "backend-rou", "prometheus", "redis-exporter", "alertmanager"],
            components.Keys);
        Assert.All(components.Where(c => c.Key.StartsWith("redis-", StringComparison.Ordinal) && c.Key != "redis-exporter" || c.Key.StartsWith("backend-", StringComparison.Ordinal)),
            c => Assert.Equal("up", c.Value));
        Assert.Equal("not started", components["prometheus"]);
        Assert.Contains("7/7 up.", (await Dive("health")).Expect(0).Out);

        using var bel = new EnvironmentScope().Set("DIVE_BACKEND_ENDPOINT_BEL", $"http://127.0.0.1:{FreePort.Next()}");
        var down = (await Dive("health", "--json")).Expect(1).Json;
        Assert.Equal("down", down.GetProperty("components").EnumerateArray().Single(c => c.GetProperty("component").GetString() == "backend-bel").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Ps_lists_what_the_running_apphost_started_with_live_pids_and_answering_ports()
    {
        using var app = RunningApp();
        var json = (await Dive("ps", "--json")).Expect(0).Json;
        Assert.Equal(Environment.ProcessId, json.GetProperty("appHostPid").GetInt32());
        var resources = json.GetProperty("resources").EnumerateArray().ToList();
        foreach (var name in new[] { "redis-usa", "redis-rou", "redis-bel", "redis-blacklist", "backend-usa", "backend-rou", "backend-bel" })
        {
            var resource = resources.First(r => r.GetProperty("name").GetString() == name);
            Assert.Equal("Running", resource.GetProperty("state").GetString());
            Assert.True(resource.GetProperty("pid").GetInt32() > 0, $"{name}: {resource}");
            Assert.True(resource.GetProperty("pidAlive").GetBoolean(), $"{name}: {resource}");
            Assert.True(resource.GetProperty("portsAnswer").GetBoolean(), $"{name}: {resource}");
        }
        Assert.DoesNotContain(resources, r => r.GetProperty("name").GetString()!.StartsWith("redis-password", StringComparison.Ordinal));
        Assert.DoesNotContain(resources, r => r.GetProperty("name").GetString() == "backend-dnk");

        var text = (await Dive("ps")).Expect(0).Out;
        Assert.Contains("RESOURCE", text);
        Assert.Matches(new Regex(@"^redis-usa\s+.*Running.*pid alive, ports answer$", RegexOptions.Multiline), text);
    }

    [Fact]
    public async Task Ps_is_one_line_and_exit_1_when_the_app_is_not_running_or_its_apphost_has_exited()
    {
        var empty = Directory.CreateTempSubdirectory("dive-ps-").FullName;
        try
        {
            using var none = new EnvironmentScope().Set("DIVE_DATA_PATH", empty);
            Assert.Contains("DIVE is not running", (await Dive("ps")).Expect(1).OneLineError);

            // A state file left by an AppHost that died: its pid no longer runs.
            using var exited = Process.Start(new ProcessStartInfo("true"))!;
            await exited.WaitForExitAsync();
            var state = await File.ReadAllTextAsync(Path.Combine(Federation.DataPath, "apphost-state.json"));
            var stale = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(state)!;
            stale["appHostPid"] = JsonSerializer.SerializeToElement(exited.Id);
            await File.WriteAllTextAsync(Path.Combine(empty, "apphost-state.json"), JsonSerializer.Serialize(stale));
            Assert.Contains($"the AppHost pid {exited.Id}", (await Dive("ps")).Expect(1).OneLineError);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public async Task Hub_verify_passes_its_eight_checks_and_skips_monitoring_which_is_off_here()
    {
        var run = (await Dive("hub", "verify", "--spokes", "rou,bel", "--json")).Expect(1);
        var checks = run.Json.GetProperty("reports")[0].GetProperty("checks").EnumerateArray().ToList();
        Assert.Equal(10, checks.Count);
        Assert.All(checks.Take(8), c => Assert.True(c.GetProperty("outcome").GetString() == "pass", c.ToString()));
        Assert.All(checks.Skip(8), c =>
        {
            Assert.Equal("skipped", c.GetProperty("outcome").GetString());
            Assert.Contains("Prometheus does not answer at http://127.0.0.1:", c.GetProperty("detail").GetString());
        });
        Assert.Contains("appendfsync always", checks[5].GetProperty("detail").GetString());

        var allowed = (await Dive("hub", "verify", "--spokes", "rou,bel", "--allow-skipped")).Expect(0).Out;
        Assert.Contains("Checks passed: 8/10 (2 skipped, allowed)", allowed);
        Assert.Contains(" 7. [PASS] every backend subscribed to revocations: 3 of 3 subscribed", allowed);

        // instances/ also has DNK, whose backend does not run: check 7 fails, and so does the run.
        var status = (await Dive("hub", "status", "--allow-skipped")).Expect(1).Out;
        Assert.Contains(" 7. [FAIL] every backend subscribed to revocations: not subscribed: DNK", status);

        // With the running app found, the spokes it runs are the default.
        using var app = RunningApp();
        Assert.Contains("3 of 3 subscribed (USA, BEL, ROU)", (await Dive("hub", "status", "--allow-skipped")).Expect(0).Out);
    }

    [Fact]
    public async Task Spoke_verify_accepts_a_hub_token_and_enforces_a_hub_revocation_within_1_s_then_deletes_it()
    {
        await using var shared = await Federation.ConnectAsync("redis-blacklist");
        var json = (await Dive("spoke", "verify", "rou", "--json")).Expect(0).Json;
        var checks = json.GetProperty("reports")[0].GetProperty("checks").EnumerateArray().ToList();
        Assert.Equal(9, checks.Count);
        Assert.All(checks, c => Assert.True(c.GetProperty("outcome").GetString() == "pass", c.ToString()));
        Assert.Contains("Token has been revoked", checks[8].GetProperty("detail").GetString());
        var verifyKeys = await shared.GetServers()[0].KeysAsync(pattern: "blacklist:dive-verify-*").ToListAsync();
        Assert.Empty(verifyKeys);

        var federation = (await Dive("spoke", "verify-federation", "--spokes", "rou,bel")).Expect(0).Out;
        Assert.Contains("Verification of the spoke ROU", federation);
        Assert.Contains("Verification of the spoke BEL", federation);
        Assert.Contains("All 2 verified.", federation);

        Assert.Contains("2/2 spokes fine.", (await Dive("spoke", "status-all", "--spokes", "rou,bel")).Expect(0).Out);
        var withDnk = (await Dive("spoke", "status-all")).Expect(1).Out;
        Assert.Contains("2/3 spokes fine.", withDnk);
        using (RunningApp())
        {
            Assert.Contains("2/2 spokes fine.", (await Dive("spoke", "status-all")).Expect(0).Out);
        }
        Assert.Contains("USA is the hub", (await Dive("spoke", "verify", "usa")).Expect(2).OneLineError);
    }
}
