using DiveAspire.AppHost.Monitoring;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Monitoring;

/// <summary>The shipped monitoring/ files and the generators, checked by the real promtool and amtool.</summary>
public sealed class MonitoringFilesTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("dive-monitoring-files-").FullName;

    public static TheoryData<string> RequiredAlerts => new()
    {
        "RedisDown", "RedisHighMemoryUsage", "RedisRejectedConnections", "RedisHighKeyspaceMisses",
        "RevocationStoreUnavailable", "RevocationSubscriberMissing", "RevocationPropagationSlow", "RateLimitStoreFallback",
        "RevocationCacheFull", "RedisReplicationBroken", "RedisSentinelQuorumLost", "RevocationStoreFailover",
    };

    [Fact]
    public async Task Promtool_checks_the_shipped_rules_and_passes_their_unit_tests()
    {
        var rules = Directory.GetFiles(Path.Combine(RepositoryFiles.Monitoring, "prometheus", "rules"), "*.yml");
        var (checkCode, checkText) = await RepositoryFiles.RunAsync("promtool", ["check", "rules", .. rules]);
        Assert.True(checkCode == 0, checkText);

        var tests = Directory.GetFiles(Path.Combine(RepositoryFiles.Monitoring, "tests"), "*.yml");
        Assert.NotEmpty(tests);
        var (testCode, testText) = await RepositoryFiles.RunAsync("promtool", ["test", "rules", .. tests]);
        Assert.True(testCode == 0, testText);
        Assert.DoesNotContain("FAILED", testText);
    }

    [Theory]
    [MemberData(nameof(RequiredAlerts))]
    public void Every_required_alert_is_defined_and_unit_tested(string alert)
    {
        var rules = string.Concat(Directory.GetFiles(Path.Combine(RepositoryFiles.Monitoring, "prometheus", "rules"), "*.yml").Select(File.ReadAllText));
        var tests = string.Concat(Directory.GetFiles(Path.Combine(RepositoryFiles.Monitoring, "tests"), "*.yml").Select(File.ReadAllText));
        Assert.Contains($"- alert: {alert}\n", rules);
        Assert.Contains($"alertname: {alert}\n", tests);
    }

    [Fact]
    public async Task A_generated_configuration_with_shortened_rules_passes_promtool_check_config()
    {
        var rulesDir = Path.Combine(_temp, "rules");
        Directory.CreateDirectory(rulesDir);
        var shipped = MonitoringRules.Load(Path.Combine(RepositoryFiles.Monitoring, "prometheus", "rules"), "3s");
        foreach (var (name, rules) in shipped)
        {
            Assert.DoesNotContain("for: 5m", rules);
            Assert.Contains("for: 3s", rules);
            await File.WriteAllTextAsync(Path.Combine(rulesDir, name), rules);
        }
        var config = PrometheusConfig.Render("15s", Path.Combine(rulesDir, "*.yml"), "localhost:9121", "localhost:9093",
            [new("redis://localhost:6479", "blacklist", "token-store"), new("redis://localhost:6379", "USA", "cache")],
            [new("localhost:4000", "USA", "hub")],
            [new("redis://localhost:26379", "blacklist-sentinel-1", MonitoringTargets.SentinelType)],
            MonitoringTargets.RemoteBackendTargets(
                new Microsoft.Extensions.Configuration.ConfigurationManager { ["Dive:Peers:rou"] = "http://spoke-rou.example.org:4025/", ["Dive:Peers:dnk"] = "https://spoke-dnk.example.org:4008/" },
                DiveTopology.Load(DiveAspire.Tests.Infrastructure.AppHostArgs.InstancesDirectory, "none").Joined("rou,bel,dnk", hubIsRemote: false, DiveAspire.Tests.Infrastructure.AppHostArgs.InstancesDirectory)));
        Assert.Contains($"job_name: {MonitoringNames.SentinelJob}", config);
        // Remote spokes: their own job, labelled remote, at their Dive:Peers URL; one without an address (BEL) is left out.
        Assert.Contains($"job_name: {MonitoringNames.RemoteBackendJob}", config);
        Assert.Contains("- targets: ['spoke-rou.example.org:4025']\n        labels: {instance: 'ROU', role: 'spoke', location: 'remote', __scheme__: 'http'}", config.ReplaceLineEndings("\n"));
        // An https peer is scraped with https, never downgraded to plain http.
        Assert.Contains("- targets: ['spoke-dnk.example.org:4008']\n        labels: {instance: 'DNK', role: 'spoke', location: 'remote', __scheme__: 'https'}", config.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("'BEL'", config);
        var path = Path.Combine(_temp, "prometheus.yml");
        await File.WriteAllTextAsync(path, config);

        var (code, text) = await RepositoryFiles.RunAsync("promtool", "check", "config", path);
        Assert.True(code == 0, text);
        // Every shipped file (redis, backend and, since issue 14, revocation-store HA alerts) is loaded.
        Assert.Contains($"SUCCESS: {shipped.Count} rule files found", text);
        Assert.Equal(3, shipped.Count);
    }

    [Fact]
    public async Task Alertmanager_configuration_is_valid_with_and_without_a_webhook()
    {
        foreach (var webhook in new Uri?[] { null, new("https://hooks.example.org/dive") })
        {
            var path = Path.Combine(_temp, "alertmanager.yml");
            var config = AlertmanagerConfig.Render(webhook);
            await File.WriteAllTextAsync(path, config);
            var (code, text) = await RepositoryFiles.RunAsync("amtool", "check-config", path);
            Assert.True(code == 0, text);
            Assert.Equal(webhook is not null, config.Contains("https://hooks.example.org/dive", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Exporter_timeout_stays_below_the_scrape_interval()
    {
        Assert.Equal("5000ms", Settings("15s").ExporterConnectionTimeout);
        Assert.Equal("1000ms", Settings("2s").ExporterConnectionTimeout);
        Assert.Equal("250ms", Settings("500ms").ExporterConnectionTimeout);

        static MonitoringSettings Settings(string interval) => MonitoringSettings.From(
            new Microsoft.Extensions.Configuration.ConfigurationManager { ["Dive:Monitoring:ScrapeInterval"] = interval });
    }

    [Fact]
    public void Dashboard_is_valid_json_with_an_instance_variable_and_every_query_on_the_fixed_datasource()
    {
        var dashboard = DashboardQueries.Load();
        Assert.Equal("DIVE Redis", dashboard.GetProperty("title").GetString());
        // The original's uid: links and bookmarks to /d/redis keep working.
        Assert.Equal("redis", dashboard.GetProperty("uid").GetString());
        var description = dashboard.GetProperty("description").GetString()!;
        Assert.Contains("Grafana runs only in the container runtime", description);
        Assert.Contains("no Grafana binary exists for the process runtime", description);

        var variable = Assert.Single(dashboard.GetProperty("templating").GetProperty("list").EnumerateArray());
        Assert.Equal("instance", variable.GetProperty("name").GetString());
        Assert.Equal(MonitoringNames.GrafanaDatasourceUid, variable.GetProperty("datasource").GetProperty("uid").GetString());
        Assert.Equal(("redis_up", "instance"), DashboardQueries.LabelValues(variable.GetProperty("query").GetProperty("query").GetString()!));

        var panels = dashboard.GetProperty("panels").EnumerateArray().ToList();
        Assert.All(panels, panel =>
        {
            Assert.Equal(MonitoringNames.GrafanaDatasourceUid, panel.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.All(panel.GetProperty("targets").EnumerateArray(), t =>
            {
                Assert.Equal(MonitoringNames.GrafanaDatasourceUid, t.GetProperty("datasource").GetProperty("uid").GetString());
                Assert.Contains("instance=~\"$instance\"", t.GetProperty("expr").GetString());
            });
        });
        var exprs = string.Join('\n', DashboardQueries.Targets(dashboard).Select(t => t.Expr));
        foreach (var metric in new[]
        {
            "redis_up", "redis_connected_clients", "redis_memory_max_bytes", "redis_commands_processed_total", "redis_keyspace_hits_total",
            "redis_evicted_keys_total", "dive_v3_revocation_cache_size", "dive_v3_revocations_received_total",
            "dive_v3_rate_limit_blocks_total", "dive_v3_rate_limit_store", "dive_v3_revocation_propagation_seconds_bucket",
            "redis_connected_slaves", "redis_master_repl_offset",
        })
        {
            Assert.Contains(metric, exprs);
        }
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
    }

    [Fact]
    public void Grafana_datasource_is_provisioned_with_the_fixed_uid()
    {
        var yaml = File.ReadAllText(Path.Combine(RepositoryFiles.Monitoring, "grafana", "provisioning", "datasources", "prometheus.yml"));
        Assert.Contains($"uid: {MonitoringNames.GrafanaDatasourceUid}\n", yaml);
        Assert.Contains("url: http://prometheus:9090\n", yaml);
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
