namespace DiveAspire.AppHost.Monitoring;

/// <summary>Official images of the monitoring stack in the container runtime (the process runtime uses Debian's binaries).</summary>
internal static class MonitoringImageTags
{
    public const string Registry = "docker.io";

    public const string PrometheusImage = "prom/prometheus";
    public const string PrometheusTag = "v2.55.1";

    public const string AlertmanagerImage = "prom/alertmanager";
    public const string AlertmanagerTag = "v0.27.0";

    public const string RedisExporterImage = "oliver006/redis_exporter";
    public const string RedisExporterTag = "v1.67.0";
    /// <summary>The user the redis_exporter image runs as; it must be able to read the password file.</summary>
    public const int RedisExporterUid = 59000;

    public const string GrafanaImage = "grafana/grafana";
    public const string GrafanaTag = "11.4.0";
    /// <summary>The user the Grafana image runs as; it must be able to read the admin password file.</summary>
    public const int GrafanaUid = 472;

    /// <summary>"nobody", the user of the Prometheus and Alertmanager images.</summary>
    public const int NobodyUid = 65534;
}
