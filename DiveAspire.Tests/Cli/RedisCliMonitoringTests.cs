using System.Text.Json;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Tests.Monitoring;
using DiveAspire.Topology;
using Xunit.Abstractions;

namespace DiveAspire.Tests.Cli;

/// <summary>
/// `dive redis metrics | alerts` against the live Prometheus of the monitoring app (2 s scrapes, alert rules' <c>for</c>
/// shortened to 4 s), reached through DIVE_PROMETHEUS_URL.
/// </summary>
[Collection(MonitoringCollection.Name)]
public sealed class RedisCliMonitoringTests(MonitoringFixture monitoring, ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan ScrapeWait = TimeSpan.FromSeconds(90);

    private readonly EnvironmentScope _env = new EnvironmentScope()
        .Set("DIVE_PROMETHEUS_URL", monitoring.App.GetEndpoint(MonitoringNames.Prometheus, "http").ToString());

    public void Dispose() => _env.Dispose();

    private Task<CliRun> Dive(params string[] args) => CliRun.RunAsync(monitoring.Secrets.AllValues, args);

    /// <summary>Runs the CLI until <paramref name="done"/> accepts its run (scrapes and rule evaluations take time).</summary>
    private async Task<CliRun> DiveUntilAsync(Func<CliRun, bool> done, string what, params string[] args)
    {
        var deadline = DateTime.UtcNow + ScrapeWait;
        while (true)
        {
            var run = await Dive(args);
            if (done(run))
            {
                return run;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"after {ScrapeWait.TotalSeconds:F0} s, still not {what}: exit {run.ExitCode}\n{run.Out}\n{run.Error}");
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private static Dictionary<string, JsonElement> ByInstance(CliRun run) =>
        run.Json.GetProperty("redis").EnumerateArray().ToDictionary(r => r.GetProperty("instance").GetString()!);

    private static List<JsonElement> Firing(CliRun run, string name) =>
        run.Json.GetProperty("alerts").EnumerateArray()
            .Where(a => a.GetProperty("name").GetString() == name && a.GetProperty("state").GetString() == "firing").ToList();

    /// <summary>{"alerts":[{name,state,instance,severity,summary,activeAt}],"firing":N,"pending":M}, the counts matching the list.</summary>
    private static void AssertShape(JsonElement json)
    {
        var alerts = json.GetProperty("alerts").EnumerateArray().ToList();
        foreach (var alert in alerts)
        {
            Assert.False(string.IsNullOrEmpty(alert.GetProperty("name").GetString()));
            Assert.Contains(alert.GetProperty("state").GetString(), new[] { "pending", "firing" });
            Assert.False(string.IsNullOrEmpty(alert.GetProperty("instance").GetString()), $"no instance: {alert}");
            Assert.False(string.IsNullOrEmpty(alert.GetProperty("severity").GetString()), $"no severity: {alert}");
            Assert.False(string.IsNullOrEmpty(alert.GetProperty("summary").GetString()), $"no summary: {alert}");
            Assert.True(alert.GetProperty("activeAt").GetDateTimeOffset() <= DateTimeOffset.UtcNow.AddSeconds(5));
        }
        Assert.Equal(alerts.Count(a => a.GetProperty("state").GetString() == "firing"), json.GetProperty("firing").GetInt32());
        Assert.Equal(alerts.Count(a => a.GetProperty("state").GetString() == "pending"), json.GetProperty("pending").GetInt32());
    }

    [Fact]
    public async Task Metrics_lists_every_redis_of_the_app_up_with_memory_and_clients()
    {
        var expected = monitoring.Topology.RedisStores.Select(s => s.Label).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["BEL", "ROU", "USA", "blacklist"], expected);

        var run = await DiveUntilAsync(r => r.ExitCode == 0 && ByInstance(r).Count == expected.Count, "every Redis up", "redis", "metrics", "--json");
        var rows = ByInstance(run);
        Assert.Equal(expected, rows.Keys.Order(StringComparer.Ordinal));
        foreach (var (instance, row) in rows)
        {
            Assert.True(row.GetProperty("up").GetBoolean(), $"{instance} not up: {row}");
            Assert.True(row.GetProperty("memoryUsedBytes").GetDouble() > 0, $"{instance}: {row}");
            Assert.True(row.GetProperty("memoryMaxBytes").GetDouble() > 0, $"{instance} has no maxmemory: {row}");
            Assert.True(row.GetProperty("clients").GetDouble() >= 1, $"{instance}: {row}");
        }

        var text = (await Dive("redis", "metrics")).Expect(0).Out;
        Assert.StartsWith("INSTANCE", text);
        foreach (var instance in expected)
        {
            Assert.Contains(text.Split('\n'), line => line.StartsWith(instance + " ", StringComparison.Ordinal) && line.Contains(" yes "));
        }
    }

    [Fact]
    public async Task Alerts_lists_no_RedisDown_on_a_healthy_app_then_a_firing_RedisDown_for_a_stopped_spoke_redis_and_fail_on_firing_exits_1()
    {
        // Healthy: no RedisDown (waited for, in case an earlier test's is still resolving). Other alerts may fire on a
        // fresh app: RedisHighKeyspaceMisses (info) does, since nearly every lookup misses on new Redis servers.
        var healthy = await DiveUntilAsync(r => r.ExitCode == 0 && Firing(r, "RedisDown").Count == 0, "zero firing RedisDown", "redis", "alerts", "--json");
        AssertShape(healthy.Json);
        output.WriteLine($"firing on the healthy app: {string.Join(", ", healthy.Json.GetProperty("alerts").EnumerateArray().Select(a => $"{a.GetProperty("name")}/{a.GetProperty("instance")}/{a.GetProperty("state")}"))}");
        var strict = await Dive("redis", "alerts", "--fail-on-firing", "--json");
        Assert.Empty(Firing(strict, "RedisDown"));
        strict.Expect(strict.Json.GetProperty("firing").GetInt32() > 0 ? 1 : 0);

        await monitoring.ExecuteCommandAsync("redis-rou", KnownResourceCommands.StopCommand, FederationFixture.StopTimeout);
        try
        {
            var down = await DiveUntilAsync(r => r.ExitCode == 0 && Firing(r, "RedisDown").Count > 0, "RedisDown firing", "redis", "alerts", "--json");
            var alert = Assert.Single(Firing(down, "RedisDown"));
            Assert.Equal("ROU", alert.GetProperty("instance").GetString());
            Assert.Equal("critical", alert.GetProperty("severity").GetString());
            Assert.Contains("ROU", alert.GetProperty("summary").GetString());
            AssertShape(down.Json);
            Assert.True(down.Json.GetProperty("firing").GetInt32() >= 1);

            // Exit 0 by default (the alerts could be listed); 1 with --fail-on-firing, for scripts.
            var failing = (await Dive("redis", "alerts", "--fail-on-firing")).Expect(1);
            Assert.Equal("", failing.Error);
            var row = Assert.Single(failing.Out.Split('\n'), l => l.StartsWith("RedisDown ", StringComparison.Ordinal) && l.Contains(" ROU "));
            Assert.Contains(" firing ", row);
            Assert.Contains(" firing, ", failing.Out);

            // metrics reports ROU down and fails.
            var metrics = await DiveUntilAsync(r => r.ExitCode == 1, "metrics failing", "redis", "metrics", "--json");
            Assert.False(ByInstance(metrics)["ROU"].GetProperty("up").GetBoolean());
            Assert.True(ByInstance(metrics)["USA"].GetProperty("up").GetBoolean());
            output.WriteLine(down.Out);
        }
        finally
        {
            await monitoring.StartAgainAsync("redis-rou", KnownResourceCommands.StartCommand, FederationFixture.StartTimeout);
        }

        // Leave the app as found for the other monitoring tests: RedisDown resolved, the ROU backend healthy again.
        await DiveUntilAsync(r => r.ExitCode == 0 && Firing(r, "RedisDown").Count == 0, "RedisDown resolved", "redis", "alerts", "--json");
        await monitoring.WaitHealthyAsync("backend-rou", FederationFixture.StartTimeout);
    }
}
