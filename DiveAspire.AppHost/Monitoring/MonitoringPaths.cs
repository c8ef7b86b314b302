namespace DiveAspire.AppHost.Monitoring;

/// <summary>Shipped monitoring files (monitoring/ in the repository) and the generated ones (in the git-ignored data directory).</summary>
public sealed record MonitoringPaths(string Source, string Generated)
{
    public static MonitoringPaths For(DiveOptions options) => new(
        Path.Combine(Path.GetDirectoryName(options.InstancesPath)!, "monitoring"),
        Path.Combine(options.DataPath, "monitoring"));

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
