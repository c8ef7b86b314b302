using System.Threading.RateLimiting;
using DiveAspire.Backend.Health;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>
/// The five DIVE limiters as ASP.NET Core rate-limiter policies backed by the instance's Redis.
/// Why our own Lua script rather than the RedisRateLimiting package: the DIVE key names
/// (<c>dive-v3:rate-limit:{type}:{client}</c>, which the CLI and admin endpoints SCAN), counting only failed attempts for
/// <c>auth</c>, RateLimit-* headers on successful responses, and failing over to memory at run time all need control
/// over the script and the error path that the package does not give; the script itself is ten lines and atomic.
/// </summary>
public static class RateLimitingSetup
{
    public static IServiceCollection AddDiveRateLimiting(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(RateLimitSettings.From(config));
        services.AddHttpContextAccessor();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<RateLimitStore>();
        services.AddHostedService<RateLimitStoreMonitor>();
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            "rate-limit-store", sp => new RateLimitStoreHealthCheck(sp.GetRequiredService<RateLimitStore>()), HealthStatus.Degraded, [HealthEndpoints.RedisTag]));

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            foreach (var type in RateLimitPolicies.All)
            {
                options.AddPolicy(type, http => Partition(type, http));
            }
            options.OnRejected = async (context, ct) =>
            {
                if (context.Lease is DiveRateLimiter.Lease lease)
                {
                    await RateLimitHeaders.WriteRejectionAsync(context.HttpContext, lease, ct);
                }
            };
        });
        return services;
    }

    private static RateLimitPartition<string> Partition(string type, HttpContext http)
    {
        var settings = http.RequestServices.GetRequiredService<RateLimitSettings>();
        if (settings.Mode == RateLimitStoreMode.Off || IsExempt(http.Request.Path) || settings.AllowList.Contains(ClientAddress.Of(http)))
        {
            return RateLimitPartition.GetNoLimiter("exempt");
        }
        var client = ClientAddress.Key(http);
        var store = http.RequestServices.GetRequiredService<RateLimitStore>();
        var accessor = http.RequestServices.GetRequiredService<IHttpContextAccessor>();
        return RateLimitPartition.Get(client, key => new DiveRateLimiter(type, key, settings[type], store, accessor));
    }

    public static bool IsExempt(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");
}
