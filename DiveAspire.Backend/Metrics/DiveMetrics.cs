using Prometheus;

namespace DiveAspire.Backend.Metrics;

/// <summary>
/// Every dive_v3_* metric the backend exposes on /metrics. The alert rules and the Grafana dashboard in monitoring/
/// query these names. Labelled series are created at start-up (<see cref="Initialize"/>) so dashboards show 0, not "no data".
/// </summary>
public static class DiveMetrics
{
    public static readonly string[] LimiterTypes = ["api", "auth", "upload", "admin", "strict", "revocation"];
    public static readonly string[] RateLimitStores = ["redis", "memory"];

    public static readonly Gauge RedisHealth = Prometheus.Metrics.CreateGauge(
        "dive_v3_redis_health", "1 when the backend's Redis store answers PING, else 0.", "cluster");

    // Revocation (shared blacklist)
    public static readonly Counter RevocationsPublished = Prometheus.Metrics.CreateCounter(
        "dive_v3_revocations_published_total", "Revocations this backend wrote to the shared store and published.", "type");
    public static readonly Counter RevocationsReceived = Prometheus.Metrics.CreateCounter(
        "dive_v3_revocations_received_total", "Revocation messages received over pub/sub.", "type");
    public static readonly Gauge RevocationCacheSize = Prometheus.Metrics.CreateGauge(
        "dive_v3_revocation_cache_size", "Entries in the local revocation cache.", "type");
    public static readonly Gauge RevocationCacheFull = Prometheus.Metrics.CreateGauge(
        "dive_v3_revocation_cache_full", "1 while the local revocation cache is full (tokens it does not know are refused), else 0.");
    public static readonly Counter RevocationCacheRefused = Prometheus.Metrics.CreateCounter(
        "dive_v3_revocation_cache_refused_total", "Revocations the full local cache could not hold.");
    public static readonly Histogram RevocationCheckDuration = Prometheus.Metrics.CreateHistogram(
        "dive_v3_revocation_check_duration_seconds", "Time to check one request's token and user against revocations.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.000001, 4, 10) });
    public static readonly Histogram RevocationPropagation = Prometheus.Metrics.CreateHistogram(
        "dive_v3_revocation_propagation_seconds",
        "Time from a revocation at another instance (its timestamp) to this backend's cache holding it, over pub/sub.",
        new HistogramConfiguration { LabelNames = ["type"], Buckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    public static readonly Counter RevocationPubSubReconnects = Prometheus.Metrics.CreateCounter(
        "dive_v3_revocation_pubsub_reconnects_total", "Times the revocation subscription reconnected and resynchronised.");
    public static readonly Gauge RevocationSubscriberConnected = Prometheus.Metrics.CreateGauge(
        "dive_v3_revocation_subscriber_connected", "1 while the revocation pub/sub subscription is live, else 0.");
    public static readonly Gauge RevocationStoreUp = Prometheus.Metrics.CreateGauge(
        "dive_v3_revocation_store_up", "1 while the shared revocation store is reachable, else 0.");

    // Rate limiting
    public static readonly Counter RateLimitHits = Prometheus.Metrics.CreateCounter(
        "dive_v3_rate_limit_hits_total", "Requests counted by a rate limiter.", "limiter_type");
    public static readonly Counter RateLimitBlocks = Prometheus.Metrics.CreateCounter(
        "dive_v3_rate_limit_blocks_total", "Requests rejected with 429.", "limiter_type");
    public static readonly Gauge RateLimitActiveKeys = Prometheus.Metrics.CreateGauge(
        "dive_v3_rate_limit_active_keys", "Client keys with a live window.", "limiter_type");
    public static readonly Gauge RateLimitStore = Prometheus.Metrics.CreateGauge(
        "dive_v3_rate_limit_store", "1 for the store the rate limiters use now (redis or memory), 0 for the other.", "store");

    // Authorization decision cache
    public static readonly Counter DecisionCacheHits = Prometheus.Metrics.CreateCounter(
        "dive_v3_decision_cache_hits_total", "Authorization decisions served from the cache.");
    public static readonly Counter DecisionCacheMisses = Prometheus.Metrics.CreateCounter(
        "dive_v3_decision_cache_misses_total", "Authorization decisions computed because the cache had none.");
    public static readonly Counter DecisionCacheInvalidations = Prometheus.Metrics.CreateCounter(
        "dive_v3_decision_cache_invalidations_total", "Invalidation messages applied, by scope.", "scope");

    // Catalog
    public static readonly Counter ResourceRelabels = Prometheus.Metrics.CreateCounter(
        "dive_v3_resource_relabels_total", "Uploads that change an existing document's label, applied (instance admin) or refused.", "outcome");

    public const string DotNetMetersKey = "Dive:Metrics:DotNetMeters";

    /// <summary>
    /// prometheus-net copies every System.Diagnostics.Metrics instrument (ASP.NET Core's per-request ones included) and
    /// every EventCounter to /metrics by default: a second recording of what OpenTelemetry already sends to the dashboard,
    /// paid on every request (its event listener also turns on ASP.NET Core's per-request start/stop events), and queried
    /// by no alert or Grafana panel (those use dive_v3_*). Off unless <c>Dive:Metrics:DotNetMeters=on</c>; process and
    /// GC metrics stay. Call before the first metric is created.
    /// </summary>
    public static void ConfigureDefaults(IConfiguration config)
    {
        if (!string.Equals(config[DotNetMetersKey], "on", StringComparison.OrdinalIgnoreCase))
        {
            Prometheus.Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true, SuppressEventCounters = true });
        }
    }

    public static void Initialize()
    {
        foreach (var outcome in new[] { "applied", "refused" })
        {
            ResourceRelabels.WithLabels(outcome);
        }
        foreach (var cluster in new[] { "cache", "blacklist" })
        {
            RedisHealth.WithLabels(cluster);
        }
        foreach (var type in new[] { "token", "user" })
        {
            RevocationsPublished.WithLabels(type);
            RevocationsReceived.WithLabels(type);
            RevocationCacheSize.WithLabels(type);
            RevocationPropagation.WithLabels(type);
        }
        foreach (var limiter in LimiterTypes)
        {
            RateLimitHits.WithLabels(limiter);
            RateLimitBlocks.WithLabels(limiter);
            RateLimitActiveKeys.WithLabels(limiter);
        }
        foreach (var store in RateLimitStores)
        {
            RateLimitStore.WithLabels(store);
        }
        foreach (var scope in new[] { "all", "user", "resource" })
        {
            DecisionCacheInvalidations.WithLabels(scope);
        }
    }
}
