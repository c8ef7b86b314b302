using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Xunit.Abstractions;

namespace DiveAspire.Tests.Monitoring;

[Collection(MonitoringCollection.Name)]
[Trait("Category", "RedisIntegration")]
public sealed class MonitoringIntegrationTests(MonitoringFixture monitoring, ITestOutputHelper output)
{
    private static readonly TimeSpan ScrapeWait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Every_redis_of_hub_and_two_spokes_shows_redis_up_1_with_its_labels()
    {
        var expected = monitoring.Topology.RedisStores.ToDictionary(s => s.Label, s => s.TypeLabel);
        Assert.Equal(["blacklist", "USA", "BEL", "ROU"], expected.Keys);

        var samples = await monitoring.QueryUntilAsync($"redis_up{{job=\"{MonitoringNames.RedisJob}\"}}",
            r => r.Count == expected.Count && r.All(s => s.Value == "1"), ScrapeWait);

        Assert.Equal(expected.Keys.Order(), samples.Select(s => s["instance"]).Order());
        Assert.All(samples, s => Assert.Equal(expected[s["instance"]], s["redis_type"]));
        Assert.Equal("token-store", Assert.Single(samples, s => s["instance"] == "blacklist")["redis_type"]);
    }

    [Fact]
    public async Task The_exporters_own_metrics_show_the_hubs_redis_up_1_which_prometheus_does_not_count_twice()
    {
        // The original plan's check: curl http://localhost:9121/metrics | grep -q "redis_up 1".
        using var exporter = monitoring.App.CreateHttpClient(MonitoringNames.RedisExporter, "http");
        var metrics = await exporter.GetStringAsync("/metrics");
        Assert.Contains("\nredis_up 1\n", metrics);
        // The hub's Redis is the only one with 512mb (spokes and the shared store have 256mb).
        Assert.Contains("\nredis_memory_max_bytes 5.36870912e+08\n", metrics);

        // The redis job has the hub already: the exporter's own job keeps only its self-metrics.
        await monitoring.QueryUntilAsync("up{job=\"redis-exporter\"}", r => r.Count == 1 && r[0].Value == "1", ScrapeWait);
        Assert.Empty(await monitoring.QueryAsync("redis_up{job=\"redis-exporter\"}"));
    }

    [Fact]
    public async Task Every_backend_metrics_target_is_up_with_its_instance_label()
    {
        var samples = await monitoring.QueryUntilAsync($"up{{job=\"{MonitoringNames.BackendJob}\"}}",
            r => r.Count == 3 && r.All(s => s.Value == "1"), ScrapeWait);
        Assert.Equal(["BEL", "ROU", "USA"], samples.Select(s => s["instance"]).Order());
        Assert.Equal("hub", Assert.Single(samples, s => s["instance"] == "USA")["role"]);

        // The backends' own dive_v3_* series arrive with the same instance labels.
        var health = await monitoring.QueryUntilAsync("dive_v3_redis_health", r => r.Count == 6, ScrapeWait);
        Assert.Equal(["BEL", "ROU", "USA"], health.Select(s => s["instance"]).Distinct().Order());
    }

    [Fact]
    public async Task Stopping_a_spoke_redis_fires_RedisDown_in_prometheus_and_alertmanager_and_starting_it_resolves_it()
    {
        await monitoring.QueryUntilAsync("redis_up{instance=\"BEL\"}", r => r.Count == 1 && r[0].Value == "1", ScrapeWait);
        const string firing = "ALERTS{alertname=\"RedisDown\", alertstate=\"firing\"}";
        Assert.Empty(await monitoring.QueryAsync(firing));

        var clock = Stopwatch.StartNew();
        await monitoring.ExecuteCommandAsync("redis-bel", KnownResourceCommands.StopCommand, FederationFixture.StopTimeout);
        try
        {
            await monitoring.QueryUntilAsync("redis_up{instance=\"BEL\"} == 0 or up{job=\"redis\", instance=\"BEL\"} == 0", r => r.Count > 0, ScrapeWait);
            output.WriteLine($"BEL seen down {clock.Elapsed.TotalSeconds:F1} s after the stop: {string.Join("; ", await monitoring.QueryAsync("redis_up{instance=\"BEL\"}"))}");
            var alerts = await monitoring.QueryUntilAsync(firing, r => r.Count > 0, ScrapeWait);
            var alert = Assert.Single(alerts);
            Assert.Equal("BEL", alert["instance"]);
            Assert.Equal("critical", alert["severity"]);
            Assert.Equal("cache", alert["redis_type"]);
            output.WriteLine($"RedisDown firing in Prometheus {clock.Elapsed.TotalSeconds:F1} s after the stop");

            var inAlertmanager = await WaitForAlertmanagerAsync(a => a.Any(x => x.Name == "RedisDown" && x.Instance == "BEL"), ScrapeWait);
            Assert.DoesNotContain(inAlertmanager, x => x.Name == "RedisDown" && x.Instance != "BEL");
            output.WriteLine($"RedisDown listed by Alertmanager {clock.Elapsed.TotalSeconds:F1} s after the stop");
        }
        finally
        {
            clock.Restart();
            await monitoring.StartAgainAsync("redis-bel", KnownResourceCommands.StartCommand, FederationFixture.StartTimeout);
        }

        output.WriteLine($"redis-bel healthy again {clock.Elapsed.TotalSeconds:F1} s after the start");
        await monitoring.QueryUntilAsync("redis_up{instance=\"BEL\"}", r => r.Count == 1 && r[0].Value == "1", ScrapeWait);
        await monitoring.QueryUntilAsync(firing, r => r.Count == 0, ScrapeWait);
        output.WriteLine($"RedisDown resolved in Prometheus {clock.Elapsed.TotalSeconds:F1} s after the start");
        await WaitForAlertmanagerAsync(a => !a.Any(x => x.Name == "RedisDown"), TimeSpan.FromMinutes(3));
        output.WriteLine($"RedisDown gone from Alertmanager {clock.Elapsed.TotalSeconds:F1} s after the start");
        await monitoring.WaitHealthyAsync("backend-bel", FederationFixture.StartTimeout);
    }

    [Fact]
    public async Task Promtool_and_amtool_accept_the_generated_configuration_which_holds_no_password()
    {
        var prometheusYml = Path.Combine(monitoring.GeneratedDirectory, "prometheus.yml");
        var (code, text) = await RepositoryFiles.RunAsync("promtool", "check", "config", prometheusYml);
        Assert.True(code == 0, text);
        Assert.Contains("SUCCESS", text);
        Assert.Contains($"scrape_interval: {MonitoringFixture.ScrapeInterval}", await File.ReadAllTextAsync(prometheusYml));

        var (amCode, amText) = await RepositoryFiles.RunAsync("amtool", "check-config", Path.Combine(monitoring.GeneratedDirectory, "alertmanager.yml"));
        Assert.True(amCode == 0, amText);

        var generated = Directory.GetFiles(monitoring.GeneratedDirectory, "*.yml", SearchOption.AllDirectories);
        Assert.NotEmpty(generated);
        foreach (var file in generated)
        {
            var content = await File.ReadAllTextAsync(file);
            Assert.All(monitoring.Secrets.AllValues, secret => Assert.DoesNotContain(secret, content, StringComparison.Ordinal));
        }
        // The shortened `for` of this run reached the generated rules, never the shipped ones.
        Assert.Contains("for: 4s", await File.ReadAllTextAsync(Path.Combine(monitoring.GeneratedDirectory, "rules", "redis-alerts.yml")));
    }

    [Fact]
    public async Task Exporter_password_file_maps_every_redis_address_to_its_password_and_is_private()
    {
        var path = Path.Combine(monitoring.GeneratedDirectory, "redis-exporter-passwords.json");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        var map = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(path))!;
        Assert.Equal(4, map.Count);
        foreach (var spec in monitoring.Topology.RedisStores)
        {
            var (_, port) = await monitoring.RedisEndpointAsync(spec.ResourceName);
            // The exporter user's password (issue 13), never the admin's.
            Assert.Equal(monitoring.Secrets.For(RedisAcl.Exporter(spec)), map[$"redis://localhost:{port.ToString(CultureInfo.InvariantCulture)}"]);
        }
    }

    [Fact]
    public async Task Every_dashboard_expression_runs_against_the_live_prometheus_and_returns_series()
    {
        var dashboard = DashboardQueries.Load();
        var targets = DashboardQueries.Targets(dashboard).ToList();
        Assert.True(targets.Count >= 12, $"only {targets.Count} queries");
        foreach (var (panel, expr) in targets)
        {
            var runnable = DashboardQueries.Runnable(expr);
            var result = await monitoring.QueryUntilAsync(runnable, r => r.Count > 0, ScrapeWait);
            output.WriteLine($"{panel}: {runnable} -> {result.Count} series");
        }

        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            var (metric, label) = DashboardQueries.LabelValues(variable.GetProperty("query").GetProperty("query").GetString()!);
            var values = (await monitoring.QueryUntilAsync(metric, r => r.Count >= 4, ScrapeWait)).Select(s => s[label]).Distinct().Order().ToList();
            Assert.Equal(["BEL", "ROU", "USA", "blacklist"], values.Order(StringComparer.Ordinal));
        }
    }

    private sealed record ActiveAlert(string Name, string Instance, string State);

    private async Task<IReadOnlyList<ActiveAlert>> WaitForAlertmanagerAsync(Func<IReadOnlyList<ActiveAlert>, bool> done, TimeSpan timeout)
    {
        using var http = monitoring.Alertmanager();
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var body = JsonDocument.Parse(await http.GetStringAsync("/api/v2/alerts?active=true")).RootElement;
            var alerts = body.EnumerateArray().Select(a => new ActiveAlert(
                a.GetProperty("labels").GetProperty("alertname").GetString()!,
                a.GetProperty("labels").TryGetProperty("instance", out var i) ? i.GetString()! : "",
                a.GetProperty("status").GetProperty("state").GetString()!)).ToList();
            if (done(alerts))
            {
                return alerts;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Alertmanager after {timeout.TotalSeconds:F0} s: {string.Join("; ", alerts)}");
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }
}
