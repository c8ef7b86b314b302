using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using static DiveAspire.Tests.Infrastructure.ModelInspection;

namespace DiveAspire.Tests.Monitoring;

/// <summary>The monitoring resources of the graph, built but not started, in both runtimes.</summary>
public sealed class MonitoringModelTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("dive-monitoring-model-").FullName;
    private readonly TestSecrets _secrets = new();

    private Task<IDistributedApplicationTestingBuilder> BuildAsync(string runtime, params string[] extra) =>
        ModelInspection.BuildModelAsync(runtime, "rou", _data, _secrets, ["Dive:Monitoring=true", .. extra]);

    private static IResource Get(IDistributedApplicationTestingBuilder builder, string name) =>
        Assert.Single(builder.Resources, r => r.Name == name);

    private static EndpointAnnotation Http(IResource resource) =>
        Assert.Single(resource.Annotations.OfType<EndpointAnnotation>(), e => e.Name == "http");

    private static string ListenAddressFormat(IReadOnlyList<object> raw, string flag) =>
        Assert.Single(raw.OfType<ReferenceExpression>(), r => r.Format.StartsWith(flag, StringComparison.Ordinal)).Format;

    /// <summary>
    /// -redis.addr is the hub's Redis (was empty before issue 17), so the exporter's own /metrics has the hub's
    /// redis_up; the password file is keyed by the same redis://host:port.
    /// </summary>
    private static void AssertHubRedisAddress(IReadOnlyList<object> raw)
    {
        var addr = Assert.Single(raw.OfType<ReferenceExpression>(), r => r.Format.StartsWith("-redis.addr=", StringComparison.Ordinal));
        Assert.Equal("-redis.addr={0}", addr.Format);
        var address = Assert.IsType<ReferenceExpression>(Assert.Single(addr.ValueProviders));
        Assert.Equal("redis://{0}", address.Format);
        var endpoint = Assert.IsType<EndpointReferenceExpression>(Assert.Single(address.ValueProviders));
        Assert.Equal("redis-usa", endpoint.Endpoint.Resource.Name);
        Assert.Equal(EndpointProperty.HostAndPort, endpoint.Property);
    }

    [Fact]
    public async Task Process_runtime_runs_the_debian_binaries_on_the_plan_ports_with_generated_files_in_the_data_directory()
    {
        await using var builder = await BuildAsync("process");
        var generated = Path.Combine(_data, "monitoring");

        var exporter = Assert.IsType<LocalRedisExporterResource>(Get(builder, MonitoringNames.RedisExporter));
        Assert.Equal("prometheus-redis-exporter", exporter.Command);
        Assert.Equal(PortPlan.RedisExporter, Http(exporter).Port);
        var exporterRaw = await ArgsAsync(exporter);
        var exporterArgs = Strings(exporterRaw);
        AssertHubRedisAddress(exporterRaw);
        Assert.Equal(Path.Combine(generated, "redis-exporter-passwords.json"), ValueAfter(exporterArgs, "-redis.password-file"));
        Assert.Contains("-connection-timeout=5000ms", exporterArgs);
        Assert.Equal("-web.listen-address=127.0.0.1:{0}", ListenAddressFormat(exporterRaw, "-web.listen-address"));

        var prometheus = Assert.IsType<LocalPrometheusResource>(Get(builder, MonitoringNames.Prometheus));
        Assert.Equal("prometheus", prometheus.Command);
        Assert.Equal(PortPlan.Prometheus, Http(prometheus).Port);
        var prometheusRaw = await ArgsAsync(prometheus);
        Assert.Contains($"--config.file={Path.Combine(generated, "prometheus.yml")}", Strings(prometheusRaw));
        Assert.Contains($"--storage.tsdb.path={Path.Combine(generated, "prometheus-data")}", Strings(prometheusRaw));
        Assert.Equal("--web.listen-address=127.0.0.1:{0}", ListenAddressFormat(prometheusRaw, "--web.listen-address"));

        var alertmanager = Assert.IsType<LocalAlertmanagerResource>(Get(builder, MonitoringNames.Alertmanager));
        Assert.Equal("prometheus-alertmanager", alertmanager.Command);
        Assert.Equal(PortPlan.Alertmanager, Http(alertmanager).Port);
        var alertmanagerArgs = Strings(await ArgsAsync(alertmanager));
        Assert.Contains($"--config.file={Path.Combine(generated, "alertmanager.yml")}", alertmanagerArgs);
        Assert.Contains("--cluster.listen-address=", alertmanagerArgs);
        Assert.Contains("--log.level=debug", alertmanagerArgs);

        Assert.DoesNotContain(builder.Resources, r => r.Name == MonitoringNames.Grafana);
        foreach (var resource in new IResource[] { exporter, prometheus, alertmanager })
        {
            Assert.Single(resource.Annotations.OfType<HealthCheckAnnotation>());
            var args = Strings(await ArgsAsync(resource));
            Assert.All(_secrets.AllValues, secret => Assert.DoesNotContain(args, a => a.Contains(secret, StringComparison.Ordinal)));
        }
    }

    [Theory]
    [InlineData(MonitoringNames.RedisExporter, "oliver006/redis_exporter", PortPlan.RedisExporter, 9121)]
    [InlineData(MonitoringNames.Prometheus, "prom/prometheus", PortPlan.Prometheus, 9090)]
    [InlineData(MonitoringNames.Alertmanager, "prom/alertmanager", PortPlan.Alertmanager, 9093)]
    [InlineData(MonitoringNames.Grafana, "grafana/grafana", PortPlan.Grafana, 3000)]
    public async Task Container_runtime_runs_the_official_images_on_the_plan_ports(string name, string image, int port, int targetPort)
    {
        await using var builder = await BuildAsync("container");
        var resource = Assert.IsType<ContainerResource>(Get(builder, name));
        var imageAnnotation = Assert.Single(resource.Annotations.OfType<ContainerImageAnnotation>());
        Assert.Equal(image, imageAnnotation.Image);
        Assert.Equal("docker.io", imageAnnotation.Registry);
        Assert.Matches(@"^v?[0-9]+\.[0-9]+\.[0-9]+$", imageAnnotation.Tag);
        Assert.Equal(port, Http(resource).Port);
        Assert.Equal(targetPort, Http(resource).TargetPort);
        Assert.Single(resource.Annotations.OfType<HealthCheckAnnotation>());
    }

    [Fact]
    public async Task Container_runtime_passes_generated_files_into_the_containers_and_provisions_grafana_from_the_repository()
    {
        await using var builder = await BuildAsync("container");
        var exporterRaw = await ArgsAsync(Get(builder, MonitoringNames.RedisExporter));
        var exporterArgs = Strings(exporterRaw);
        Assert.Equal("/etc/redis-exporter/passwords.json", ValueAfter(exporterArgs, "-redis.password-file"));
        AssertHubRedisAddress(exporterRaw);
        Assert.Contains("--config.file=/etc/prometheus/dive/prometheus.yml", Strings(await ArgsAsync(Get(builder, MonitoringNames.Prometheus))));
        foreach (var name in new[] { MonitoringNames.RedisExporter, MonitoringNames.Prometheus, MonitoringNames.Alertmanager })
        {
            Assert.NotEmpty(Get(builder, name).Annotations.OfType<ContainerFileSystemCallbackAnnotation>());
        }

        var grafana = Get(builder, MonitoringNames.Grafana);
        var mounts = grafana.Annotations.OfType<ContainerMountAnnotation>().ToDictionary(m => m.Target, m => m);
        Assert.Equal(Path.Combine(RepositoryFiles.Monitoring, "grafana", "provisioning"), mounts["/etc/grafana/provisioning"].Source);
        Assert.Equal(Path.Combine(RepositoryFiles.Monitoring, "grafana", "dashboards"), mounts["/var/lib/grafana/dashboards"].Source);
        Assert.All(mounts.Values, m => Assert.True(m.IsReadOnly));
        var env = await EnvironmentAsync(grafana);
        // Issue 13: the admin password reaches Grafana as a file copied into the container, not in its environment.
        Assert.False(env.ContainsKey("GF_SECURITY_ADMIN_PASSWORD"));
        Assert.DoesNotContain(env.Values, v => v is ParameterResource { Secret: true });
        Assert.Equal("/etc/grafana/dive-secrets/admin-password", env["GF_SECURITY_ADMIN_PASSWORD__FILE"]);
        Assert.Contains(grafana.Annotations.OfType<ContainerFileSystemCallbackAnnotation>(), a => a.DestinationPath == "/etc/grafana/dive-secrets");
        Assert.Equal("Viewer", env["GF_AUTH_ANONYMOUS_ORG_ROLE"]);
        Assert.True(Assert.Single(builder.Resources.OfType<ParameterResource>(), p => p.Name == "grafana-admin-password").Secret);
        Assert.Equal(MonitoringNames.Prometheus, Assert.Single(grafana.Annotations.OfType<WaitAnnotation>()).Resource.Name);
    }

    [Fact]
    public async Task Monitoring_files_come_from_the_repository_even_when_instances_live_elsewhere()
    {
        var elsewhere = Directory.CreateTempSubdirectory("dive-elsewhere-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(elsewhere, "instances", "usa"));
            File.WriteAllText(Path.Combine(elsewhere, "instances", "usa", "instance.json"), """{"code":"USA","role":"hub"}""");
            await using var builder = await BuildAsync("container", $"Dive:InstancesPath={Path.Combine(elsewhere, "instances")}", "Dive:Spokes=none", "Dive:Keycloak=false");
            var mounts = Get(builder, MonitoringNames.Grafana).Annotations.OfType<ContainerMountAnnotation>().ToDictionary(m => m.Target, m => m);
            Assert.Equal(Path.Combine(RepositoryFiles.Monitoring, "grafana", "provisioning"), mounts["/etc/grafana/provisioning"].Source);
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Theory]
    [InlineData("process")]
    [InlineData("container")]
    public async Task Monitoring_false_adds_no_monitoring_resource(string runtime)
    {
        await using var builder = await BuildAsync(runtime, "Dive:Monitoring=false");
        string[] names = [MonitoringNames.RedisExporter, MonitoringNames.Prometheus, MonitoringNames.Alertmanager, MonitoringNames.Grafana];
        Assert.DoesNotContain(builder.Resources, r => names.Contains(r.Name));
    }

    [Fact]
    public async Task A_missing_debian_binary_names_the_package_to_install()
    {
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("process", "Dive:Monitoring:Alertmanager=/nonexistent/prometheus-alertmanager"));
        Assert.Contains("apt-get install -y prometheus-alertmanager", ex.Message);
        Assert.Contains("Dive:Monitoring=false", ex.Message);
        Assert.DoesNotContain("prometheus-redis-exporter", ex.Message);
    }

    [Fact]
    public async Task Bad_monitoring_settings_fail_with_clear_errors_that_do_not_echo_a_webhook()
    {
        var interval = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("process", "Dive:Monitoring:ScrapeInterval=fast"));
        Assert.Contains("Dive:Monitoring:ScrapeInterval must be a Prometheus duration", interval.Message);
        var webhook = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("process", "Dive:Monitoring:WebhookUrl=ftp://hooks.example/token-abc"));
        Assert.DoesNotContain("token-abc", webhook.Message);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
