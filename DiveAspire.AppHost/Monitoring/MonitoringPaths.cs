using DiveAspire.Topology;

namespace DiveAspire.AppHost.Monitoring;

/// <summary>Shipped monitoring files (monitoring/ in the repository) and the generated ones (in the git-ignored data directory).</summary>
public sealed record MonitoringPaths(string Source, string Generated)
{
    /// <summary>
    /// monitoring/ belongs to the repository the AppHost is built from, whatever instances/ folder a run uses
    /// (Dive:InstancesPath may point anywhere, e.g. the benchmark's generated federation).
    /// </summary>
    public static MonitoringPaths For(DiveOptions options, string appHostDirectory)
    {
        var source = Path.Combine(Path.GetDirectoryName(DiveTopology.FindInstancesDirectory(appHostDirectory))!, "monitoring");
        if (!Directory.Exists(Path.Combine(source, "prometheus", "rules")))
        {
            throw new TopologyException($"The monitoring files are missing: {Path.Combine(source, "prometheus", "rules")} does not exist. Restore monitoring/ from git, or run with Dive:Monitoring=false.");
        }
        return new(source, Path.Combine(options.DataPath, "monitoring"));
    }

    public string RulesSource => Path.Combine(Source, "prometheus", "rules");
    public string GrafanaProvisioning => Path.Combine(Source, "grafana", "provisioning");
    public string GrafanaDashboards => Path.Combine(Source, "grafana", "dashboards");

    public string PrometheusConfig => Path.Combine(Generated, "prometheus.yml");
    public string Rules => Path.Combine(Generated, "rules");
    public string PrometheusData => Path.Combine(Generated, "prometheus-data");
    public string AlertmanagerConfig => Path.Combine(Generated, "alertmanager.yml");
    public string AlertmanagerData => Path.Combine(Generated, "alertmanager-data");
    public string ExporterPasswordFile => Path.Combine(Generated, "redis-exporter-passwords.json");
}
