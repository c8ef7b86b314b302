using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Metrics;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>Operator endpoints behind `dive redis rate-limits show|reset`.</summary>
public static class RateLimitAdminEndpoints
{
    public static IEndpointRouteBuilder MapRateLimitAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin/rate-limits")
            .RequireAuthorization(AuthenticationSetup.AdminPolicy)
            .RequireRateLimiting(RateLimitPolicies.Admin);

        admin.MapGet("/", async (RateLimitStore store, RateLimitSettings settings, InstanceInfo instance, CancellationToken ct) =>
        {
            try
            {
                var active = await store.ActiveKeysAsync(ct);
                foreach (var (type, keys) in active)
                {
                    DiveMetrics.RateLimitActiveKeys.WithLabels(type).Set(keys.Count);
                }
                return Wire.Json(new RateLimitStatusResponse(
                    instance.Code,
                    store.Active,
                    settings.Rules.ToDictionary(r => r.Key, r => new LimitDescription(r.Value.Max, (long)r.Value.Window.TotalSeconds)),
                    active.ToDictionary(a => a.Key, a => a.Value.Count),
                    // Who holds those windows: "{uniqueID}:{ip}" when authenticated, else "{ip}".
                    active.ToDictionary(a => a.Key, a => a.Value.Order(StringComparer.Ordinal).ToList())));
            }
            catch (Exception ex) when (RateLimitStore.IsRedisFailure(ex))
            {
                return Unavailable();
            }
        });

        admin.MapDelete("/{ip}", async (string ip, RateLimitStore store, CancellationToken ct) =>
        {
            if (!ClientAddress.TryParseStrict(ip, out var address))
            {
                return Wire.Json(new ErrorBody("Bad Request", $"'{ip}' is not a valid IPv4 or IPv6 address"), statusCode: StatusCodes.Status400BadRequest);
            }
            try
            {
                var canonical = address.ToString();
                return Wire.Json(new RateLimitResetResponse(canonical, await store.ResetAsync(canonical, ct)));
            }
            catch (Exception ex) when (RateLimitStore.IsRedisFailure(ex))
            {
                return Unavailable();
            }
        });
        return app;
    }

    private static IResult Unavailable() => Wire.Json(new ErrorBody("Service Unavailable", "The instance's Redis did not answer; try again."), statusCode: StatusCodes.Status503ServiceUnavailable);
}
