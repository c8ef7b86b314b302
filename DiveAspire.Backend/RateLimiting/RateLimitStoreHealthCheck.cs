using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>Degraded while the limiters run on in-memory windows (not shared by replicas, lost on restart).</summary>
public sealed class RateLimitStoreHealthCheck(RateLimitStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["store"] = store.Active };
        return Task.FromResult(store.Active == RateLimitStore.RedisName
            ? HealthCheckResult.Healthy("rate limits in the instance's Redis", data)
            : new HealthCheckResult(context.Registration.FailureStatus, "rate limits in process memory (Redis unavailable)", data: data));
    }
}
