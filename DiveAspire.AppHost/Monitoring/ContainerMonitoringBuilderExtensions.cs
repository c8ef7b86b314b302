using DiveAspire.AppHost.Monitoring;
using DiveAspire.Topology;

namespace Aspire.Hosting;

/// <summary>
/// The monitoring stack as official images (container runtime). Generated files are copied into the containers at
/// creation (owned by the image's user), so no host file with passwords is bind-mounted.
/// </summary>
internal static class ContainerMonitoringBuilderExtensions
{
    private const string ExporterConfigDirectory = "/etc/redis-exporter";
    private const string PrometheusConfigDirectory = "/etc/prometheus/dive";
    private const string AlertmanagerConfigDirectory = "/etc/alertmanager/dive";
    private const string GrafanaSecretsDirectory = "/etc/grafana/dive-secrets";

    public static void AddMonitoringContainers(this IDistributedApplicationBuilder builder, MonitoringSettings settings, MonitoringPaths paths, MonitoringTargets targets, string volumePrefix)
    {
        var exporter = builder.AddContainer(MonitoringNames.RedisExporter, MonitoringImageTags.RedisExporterImage, MonitoringImageTags.RedisExporterTag)
            .WithImageRegistry(MonitoringImageTags.Registry)
            .WithHttpEndpoint(port: PortPlan.RedisExporter, targetPort: 9121, name: "http")
            .WithArgs(ReferenceExpression.Create($"-redis.addr={targets.HubRedisAddress}"), "-redis.password-file", $"{ExporterConfigDirectory}/passwords.json", $"-connection-timeout={settings.ExporterConnectionTimeout}")
            .WithArgs([.. MonitoringTargets.ExporterArguments])
            .WithContainerFiles(ExporterConfigDirectory, async (_, ct) =>
                [new ContainerFile { Name = "passwords.json", Contents = await targets.ExporterPasswordFileAsync(ct).ConfigureAwait(false), Mode = UnixFileMode.UserRead }],
                defaultOwner: MonitoringImageTags.RedisExporterUid, defaultGroup: MonitoringImageTags.RedisExporterUid)
            .WithHttpHealthCheck("/metrics");

        var alertmanager = builder.AddContainer(MonitoringNames.Alertmanager, MonitoringImageTags.AlertmanagerImage, MonitoringImageTags.AlertmanagerTag)
            .WithImageRegistry(MonitoringImageTags.Registry)
            .WithHttpEndpoint(port: PortPlan.Alertmanager, targetPort: 9093, name: "http")
            .WithVolume($"{volumePrefix}-alertmanager-data", "/alertmanager")
            .WithArgs(
                $"--config.file={AlertmanagerConfigDirectory}/alertmanager.yml",
                "--storage.path=/alertmanager",
                "--cluster.listen-address=",
                "--log.level=debug")
            .WithContainerFiles(AlertmanagerConfigDirectory,
                [new ContainerFile { Name = "alertmanager.yml", Contents = AlertmanagerConfig.Render(settings.WebhookUrl), Mode = UnixFileMode.UserRead }],
                defaultOwner: MonitoringImageTags.NobodyUid, defaultGroup: MonitoringImageTags.NobodyUid)
            .WithHttpHealthCheck("/-/ready");

        var prometheus = builder.AddContainer(MonitoringNames.Prometheus, MonitoringImageTags.PrometheusImage, MonitoringImageTags.PrometheusTag)
            .WithImageRegistry(MonitoringImageTags.Registry)
            .WithHttpEndpoint(port: PortPlan.Prometheus, targetPort: 9090, name: "http")
            .WithVolume($"{volumePrefix}-prometheus-data", "/prometheus")
            .WithArgs(
                $"--config.file={PrometheusConfigDirectory}/prometheus.yml",
                "--storage.tsdb.path=/prometheus",
                "--storage.tsdb.retention.time=7d")
            .WithHttpHealthCheck("/-/ready");
        prometheus.WithContainerFiles(PrometheusConfigDirectory, async (_, ct) =>
            {
                var config = PrometheusConfig.Render(
                    settings.ScrapeInterval,
                    $"{PrometheusConfigDirectory}/rules/*.yml",
                    await MonitoringTargets.HostAndPortAsync(targets.Reach(exporter.Resource, "http"), ct).ConfigureAwait(false),
                    await MonitoringTargets.HostAndPortAsync(targets.Reach(alertmanager.Resource, "http"), ct).ConfigureAwait(false),
                    await targets.RedisAsync(ct).ConfigureAwait(false),
                    await targets.BackendsAsync(ct).ConfigureAwait(false),
                await targets.SentinelsAsync(ct).ConfigureAwait(false));
                var rules = MonitoringRules.Load(paths.RulesSource, settings.AlertFor)
                    .Select(rule => (ContainerFileSystemItem)new ContainerFile { Name = rule.Name, Contents = rule.Text });
                return [new ContainerFile { Name = "prometheus.yml", Contents = config }, new ContainerDirectory { Name = "rules", Entries = rules.ToList() }];
            },
            defaultOwner: MonitoringImageTags.NobodyUid, defaultGroup: MonitoringImageTags.NobodyUid);
        builder.ReachBackendsFromContainers(targets);
        // The backends are host processes. Aspire gives a container their addresses only for the host endpoints it
        // declares (environment, arguments, WaitFor) before it creates the container; the configuration above comes
        // from a callback Aspire cannot see into, so without these variables Prometheus waited forever for the
        // backends' addresses ("Starting", no container, no log line). Prometheus itself does not read them.
        foreach (var (code, endpoint) in targets.BackendEndpoints)
        {
            prometheus.WithEnvironment($"DIVE_SCRAPE_BACKEND_{code}", endpoint.Property(EndpointProperty.HostAndPort));
        }
        // Likewise the HA store's nodes and Sentinels, host processes in the container runtime: the exporter's password
        // file and Prometheus's targets name their addresses.
        foreach (var (name, endpoint) in targets.HostRedisEndpoints)
        {
            var variable = $"DIVE_SCRAPE_{name.Replace('-', '_').ToUpperInvariant()}";
            exporter.WithEnvironment(variable, endpoint.Property(EndpointProperty.HostAndPort));
            prometheus.WithEnvironment(variable, endpoint.Property(EndpointProperty.HostAndPort));
        }

        var grafanaPassword = builder.AddParameter("grafana-admin-password", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);
        var grafana = builder.AddContainer(MonitoringNames.Grafana, MonitoringImageTags.GrafanaImage, MonitoringImageTags.GrafanaTag)
            .WithImageRegistry(MonitoringImageTags.Registry)
            .WithHttpEndpoint(port: PortPlan.Grafana, targetPort: 3000, name: "http")
            .WithBindMount(paths.GrafanaProvisioning, "/etc/grafana/provisioning", isReadOnly: true)
            .WithBindMount(paths.GrafanaDashboards, "/var/lib/grafana/dashboards", isReadOnly: true)
            // Grafana reads the password from a file (the __FILE suffix): nothing secret in the container's environment.
            .WithContainerFiles(GrafanaSecretsDirectory, async (_, ct) =>
                [new ContainerFile { Name = "admin-password", Contents = await grafanaPassword.Resource.GetValueAsync(ct).ConfigureAwait(false), Mode = UnixFileMode.UserRead }],
                defaultOwner: MonitoringImageTags.GrafanaUid, defaultGroup: 0)
            .WithEnvironment("GF_SECURITY_ADMIN_PASSWORD__FILE", $"{GrafanaSecretsDirectory}/admin-password")
            .WithEnvironment("GF_AUTH_ANONYMOUS_ENABLED", "true")
            .WithEnvironment("GF_AUTH_ANONYMOUS_ORG_ROLE", "Viewer")
            .WithEnvironment("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH", "/var/lib/grafana/dashboards/dive-redis.json")
            .WaitFor(prometheus)
            .WithHttpHealthCheck("/api/health")
            .FailFastWithoutImage();

        exporter.WithParentRelationship(prometheus);
        alertmanager.WithParentRelationship(prometheus);
        grafana.WithParentRelationship(prometheus);
    }
}
