using DiveAspire.AppHost;
using DiveAspire.AppHost.Monitoring;
using DiveAspire.Topology;

namespace Aspire.Hosting;

public static class MonitoringBuilderExtensions
{
    /// <summary>
    /// redis_exporter, Prometheus (scrape configuration generated from the topology at start) and Alertmanager in
    /// both runtimes, plus Grafana in the container runtime (no Grafana binary exists for the process runtime).
    /// Call it after every Redis and backend was added. Nothing is added when Dive:Monitoring is false.
    /// </summary>
    public static void AddDiveMonitoring(this IDistributedApplicationBuilder builder, DiveTopology topology, DiveRuntime runtime, DiveOptions options)
    {
        if (!options.Monitoring)
        {
            return;
        }
        var settings = MonitoringSettings.From(builder.Configuration);
        var paths = MonitoringPaths.For(options, builder.AppHostDirectory);
        var targets = new MonitoringTargets(builder, topology, runtime);
        if (runtime == DiveRuntime.Container)
        {
            builder.AddMonitoringContainers(settings, paths, targets, options.VolumePrefix);
        }
        else
        {
            EnsureBinaries(settings);
            builder.AddMonitoringProcesses(settings, paths, targets);
        }
        builder.CreateResourceBuilder(builder.Resources.OfType<IResourceWithEndpoints>().Single(r => r.Name == MonitoringNames.Prometheus))
            .WithPrometheusLinks(debianPackage: runtime != DiveRuntime.Container);
    }

    private static void EnsureBinaries(MonitoringSettings settings)
    {
        var missing = new[]
            {
                (Command: settings.PrometheusCommand, Package: "prometheus"),
                (Command: settings.AlertmanagerCommand, Package: "prometheus-alertmanager"),
                (Command: settings.RedisExporterCommand, Package: "prometheus-redis-exporter"),
            }
            .Where(b => PrerequisiteExtensions.FindExecutable(b.Command) is null)
            .ToList();
        if (missing.Count > 0)
        {
            var packages = string.Join(' ', missing.Select(m => m.Package));
            throw new TopologyException(
                $"{string.Join(", ", missing.Select(m => $"'{m.Command}'"))} not found, and monitoring in the process runtime needs it. " +
                $"Install it with: sudo apt-get update && sudo apt-get install -y {packages} (./dive up does this for you), " +
                "or run without monitoring: Dive:Monitoring=false (./dive up --no-monitoring).");
        }
    }
}
