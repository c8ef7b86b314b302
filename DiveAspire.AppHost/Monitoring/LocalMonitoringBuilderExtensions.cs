using DiveAspire.AppHost;
using DiveAspire.AppHost.Monitoring;
using DiveAspire.Topology;

namespace Aspire.Hosting;

/// <summary>The monitoring stack as Debian executables (process runtime); each listens on 127.0.0.1 behind DCP's proxy.</summary>
internal static class LocalMonitoringBuilderExtensions
{
    public static void AddMonitoringProcesses(this IDistributedApplicationBuilder builder, MonitoringSettings settings, MonitoringPaths paths, MonitoringTargets targets)
    {
        Directory.CreateDirectory(paths.Generated);

        var exporter = builder.AddLocalRedisExporter(settings, paths, targets);
        var alertmanager = builder.AddLocalAlertmanager(settings, paths);
        var prometheus = builder.AddLocalPrometheus(settings, paths, targets, exporter.Resource, alertmanager.Resource);
        exporter.WithParentRelationship(prometheus);
        alertmanager.WithParentRelationship(prometheus);
    }

    private static IResourceBuilder<LocalRedisExporterResource> AddLocalRedisExporter(
        this IDistributedApplicationBuilder builder, MonitoringSettings settings, MonitoringPaths paths, MonitoringTargets targets)
    {
        var exporter = new LocalRedisExporterResource(MonitoringNames.RedisExporter, settings.RedisExporterCommand, paths.Generated);
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(exporter, async (_, ct) =>
            await PrivateFile.WriteAsync(paths.ExporterPasswordFile, await targets.ExporterPasswordFileAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false));

        return builder.AddResource(exporter)
            .WithHttpEndpoint(port: PortPlan.RedisExporter, name: LocalRedisExporterResource.HttpEndpointName)
            .WithArgs(context =>
            {
                // The hub's Redis on the exporter's own /metrics; every Redis (hub included) through /scrape?target=.
                context.Args.Add(ReferenceExpression.Create($"-redis.addr={targets.HubRedisAddress}"));
                context.Args.Add("-redis.password-file");
                context.Args.Add(paths.ExporterPasswordFile);
                context.Args.Add($"-connection-timeout={settings.ExporterConnectionTimeout}");
                if (targets.TlsCaCertificate is { } ca)
                {
                    // rediss:// targets (the shared store beyond loopback) are validated against this CA.
                    context.Args.Add($"-tls-ca-cert-file={ca}");
                }
                foreach (var arg in MonitoringTargets.ExporterArguments)
                {
                    context.Args.Add(arg);
                }
                context.Args.Add(ListenAddress("-web.listen-address", exporter.HttpEndpoint));
            })
            .WithHttpHealthCheck("/metrics");
    }

    private static IResourceBuilder<LocalAlertmanagerResource> AddLocalAlertmanager(
        this IDistributedApplicationBuilder builder, MonitoringSettings settings, MonitoringPaths paths)
    {
        var alertmanager = new LocalAlertmanagerResource(MonitoringNames.Alertmanager, settings.AlertmanagerCommand, paths.Generated);
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(alertmanager, async (_, ct) =>
            await PrivateFile.WriteAsync(paths.AlertmanagerConfig, AlertmanagerConfig.Render(settings.WebhookUrl), ct).ConfigureAwait(false));

        return builder.AddResource(alertmanager)
            .WithHttpEndpoint(port: PortPlan.Alertmanager, name: LocalAlertmanagerResource.HttpEndpointName)
            .WithArgs(context =>
            {
                context.Args.Add($"--config.file={paths.AlertmanagerConfig}");
                context.Args.Add($"--storage.path={paths.AlertmanagerData}");
                context.Args.Add(ListenAddress("--web.listen-address", alertmanager.HttpEndpoint));
                // A single Alertmanager needs no gossip; the default would bind the fixed port 9094.
                context.Args.Add("--cluster.listen-address=");
                // Debug level logs every received and flushed alert: this is the default receiver's output.
                context.Args.Add("--log.level=debug");
            })
            .WithHttpHealthCheck("/-/ready");
    }

    private static IResourceBuilder<LocalPrometheusResource> AddLocalPrometheus(
        this IDistributedApplicationBuilder builder, MonitoringSettings settings, MonitoringPaths paths, MonitoringTargets targets,
        LocalRedisExporterResource exporter, LocalAlertmanagerResource alertmanager)
    {
        var prometheus = new LocalPrometheusResource(MonitoringNames.Prometheus, settings.PrometheusCommand, paths.Generated);
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(prometheus, async (_, ct) =>
        {
            if (Directory.Exists(paths.Rules))
            {
                Directory.Delete(paths.Rules, recursive: true);
            }
            foreach (var (name, text) in MonitoringRules.Load(paths.RulesSource, settings.AlertFor))
            {
                await PrivateFile.WriteAsync(Path.Combine(paths.Rules, name), text, ct).ConfigureAwait(false);
            }
            var config = PrometheusConfig.Render(
                settings.ScrapeInterval,
                Path.Combine(paths.Rules, "*.yml"),
                await MonitoringTargets.HostAndPortAsync(exporter.HttpEndpoint, ct).ConfigureAwait(false),
                await MonitoringTargets.HostAndPortAsync(alertmanager.HttpEndpoint, ct).ConfigureAwait(false),
                await targets.RedisAsync(ct).ConfigureAwait(false),
                await targets.BackendsAsync(ct).ConfigureAwait(false),
                await targets.SentinelsAsync(ct).ConfigureAwait(false),
                targets.RemoteBackends);
            await PrivateFile.WriteAsync(paths.PrometheusConfig, config, ct).ConfigureAwait(false);
        });

        return builder.AddResource(prometheus)
            .WithHttpEndpoint(port: PortPlan.Prometheus, name: LocalPrometheusResource.HttpEndpointName)
            .WithArgs(context =>
            {
                context.Args.Add($"--config.file={paths.PrometheusConfig}");
                context.Args.Add($"--storage.tsdb.path={paths.PrometheusData}");
                context.Args.Add("--storage.tsdb.retention.time=7d");
                context.Args.Add(ListenAddress("--web.listen-address", prometheus.HttpEndpoint));
            })
            .WithHttpHealthCheck("/-/ready");
    }

    private static ReferenceExpression ListenAddress(string flag, EndpointReference endpoint) =>
        ReferenceExpression.Create($"{flag}=127.0.0.1:{endpoint.Property(EndpointProperty.TargetPort)}");
}
