using System.Text.Json;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DiveAspire.Backend.Health;

/// <summary>
/// /health (healthy|degraded|unhealthy), /health/detailed, /health/ready, /health/live, /health/redis.
/// A lost Redis makes the backend degraded, not dead: it still serves with its fallbacks.
/// </summary>
public static class HealthEndpoints
{
    public const string RedisTag = "redis";

    /// <summary>Health and metrics paths: answered without looking at any token the caller attached.</summary>
    public static bool IsOperational(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");

    public static IServiceCollection AddDiveHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .Add(new HealthCheckRegistration("redis-cache", sp => new RedisStoreHealthCheck(sp.GetRequiredService<RedisStores>(), RedisStores.CacheName), HealthStatus.Degraded, [RedisTag]))
            .Add(new HealthCheckRegistration("redis-blacklist", sp => new RedisStoreHealthCheck(sp.GetRequiredService<RedisStores>(), RedisStores.BlacklistName), HealthStatus.Degraded, [RedisTag]));
        return services;
    }

    public static IEndpointRouteBuilder MapDiveHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => Wire.Json(new LiveResponse("alive", DateTimeOffset.UtcNow)));

        app.MapGet("/health", async (HealthCheckService health, InstanceInfo instance, CancellationToken ct) =>
        {
            var report = await health.CheckHealthAsync(ct);
            return Report(report, instance, detailed: false);
        });

        app.MapGet("/health/detailed", async (HealthCheckService health, InstanceInfo instance, CancellationToken ct) =>
        {
            var report = await health.CheckHealthAsync(ct);
            return Report(report, instance, detailed: true);
        });

        // Ready means "can serve requests": degraded still serves (fallbacks), unhealthy does not.
        app.MapGet("/health/ready", async (HealthCheckService health, InstanceInfo instance, CancellationToken ct) =>
        {
            var report = await health.CheckHealthAsync(ct);
            return Wire.Json(new ReadyResponse(StatusName(report.Status), instance.Code),
                statusCode: report.Status == HealthStatus.Unhealthy ? 503 : 200);
        });

        app.MapGet("/health/redis", async (HealthCheckService health, CancellationToken ct) =>
        {
            var report = await health.CheckHealthAsync(r => r.Tags.Contains(RedisTag), ct);
            var up = report.Entries.Values.All(e => e.Status == HealthStatus.Healthy);
            return Wire.Json(new RedisHealthResponse(
                up ? "up" : "down",
                Math.Round(report.TotalDuration.TotalMilliseconds, 3),
                DateTimeOffset.UtcNow,
                report.Entries.ToDictionary(
                    e => e.Key.Replace("redis-", ""),
                    e => new RedisStoreHealth(
                        e.Value.Status == HealthStatus.Healthy ? "up" : "down",
                        e.Value.Data.TryGetValue("responseTimeMs", out var ms) ? ms : null,
                        e.Value.Data.TryGetValue("endpoint", out var ep) ? ep : null,
                        e.Value.Status == HealthStatus.Healthy ? null : e.Value.Description))),
                statusCode: up ? 200 : 503);
        });

        return app;
    }

    private static IResult Report(HealthReport report, InstanceInfo instance, bool detailed)
    {
        var body = new HealthResponse(
            StatusName(report.Status),
            instance.Code,
            instance.Role,
            DateTimeOffset.UtcNow,
            report.Entries.ToDictionary(
                e => e.Key,
                e => detailed
                    ? (object)new DependencyDetail(StatusName(e.Value.Status), e.Value.Description, Math.Round(e.Value.Duration.TotalMilliseconds, 3), e.Value.Data)
                    : StatusName(e.Value.Status)));
        return Wire.Json(body, statusCode: report.Status == HealthStatus.Unhealthy ? 503 : 200);
    }

    public static string StatusName(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}
