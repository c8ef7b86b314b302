namespace DiveAspire.Topology;

/// <summary>
/// Names shared by the AppHost's monitoring resources, the generated Prometheus configuration and the CLI
/// (`dive redis metrics|alerts` query Prometheus on <see cref="PortPlan.Prometheus"/> and Alertmanager on
/// <see cref="PortPlan.Alertmanager"/>).
/// </summary>
public static class MonitoringNames
{
    public const string RedisExporter = "redis-exporter";
    public const string Prometheus = "prometheus";
    public const string Alertmanager = "alertmanager";
    public const string Grafana = "grafana";

    /// <summary>Prometheus job of the Redis servers (scraped through the exporter); labels instance and redis_type.</summary>
    public const string RedisJob = "redis";
    /// <summary>Prometheus job of the HA revocation store's Sentinels (through the exporter); labels instance (blacklist-sentinel-N) and redis_type="sentinel".</summary>
    public const string SentinelJob = "redis-sentinel";
    /// <summary>Prometheus job of the backends' /metrics; labels instance (ISO3) and role.</summary>
    public const string BackendJob = "dive-backend";

    /// <summary>Backends of remote spokes (<c>--remote-spokes</c>), scraped at their <c>Dive:Peers:&lt;code&gt;</c> URL.</summary>
    public const string RemoteBackendJob = "dive-backend-remote";

    /// <summary>The Grafana datasource uid every provisioned dashboard references.</summary>
    public const string GrafanaDatasourceUid = "dive-prometheus";
}
