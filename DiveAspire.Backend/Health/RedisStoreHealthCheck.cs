using System.Diagnostics;
using DiveAspire.Backend.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using DiveAspire.Backend.Metrics;

namespace DiveAspire.Backend.Health;

/// <summary>PINGs one of the backend's Redis stores and reports the round-trip time; also feeds dive_v3_redis_health.</summary>
public sealed class RedisStoreHealthCheck(RedisStores stores, string store) : IHealthCheck
{
    private static readonly Prometheus.Gauge Up = DiveMetrics.RedisHealth;

    public static string ClusterLabel(string store) => store == RedisStores.BlacklistName ? "blacklist" : "cache";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var connection = stores.Get(store);
        var endpoint = connection.GetEndPoints().FirstOrDefault()?.ToString() ?? "unknown";
        var watch = Stopwatch.StartNew();
        try
        {
            var rtt = await connection.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            Up.WithLabels(ClusterLabel(store)).Set(1);
            return HealthCheckResult.Healthy($"PING {rtt.TotalMilliseconds:F2} ms", Data(endpoint, rtt.TotalMilliseconds));
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            Up.WithLabels(ClusterLabel(store)).Set(0);
            return new HealthCheckResult(context.Registration.FailureStatus, $"{ex.GetType().Name}: {FirstLine(ex.Message)}",
                data: Data(endpoint, watch.Elapsed.TotalMilliseconds));
        }
    }

    private static Dictionary<string, object> Data(string endpoint, double ms) =>
        new() { ["endpoint"] = endpoint, ["responseTimeMs"] = Math.Round(ms, 3) };

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
