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
                return Results.Json(new
                {
                    instance = instance.Code,
                    store = store.Active,
                    limits = settings.Rules.ToDictionary(r => r.Key, r => new { max = r.Value.Max, windowSeconds = (long)r.Value.Window.TotalSeconds }),
                    activeKeys = active.ToDictionary(a => a.Key, a => a.Value.Count),
                    // Who holds those windows: "{uniqueID}:{ip}" when authenticated, else "{ip}".
                    clients = active.ToDictionary(a => a.Key, a => a.Value.Order(StringComparer.Ordinal).ToList()),
                });
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
                return Results.Json(new { error = "Bad Request", message = $"'{ip}' is not a valid IPv4 or IPv6 address" }, statusCode: StatusCodes.Status400BadRequest);
            }
            try
            {
                var canonical = address.ToString();
                return Results.Json(new { ip = canonical, keysDeleted = await store.ResetAsync(canonical, ct) });
            }
            catch (Exception ex) when (RateLimitStore.IsRedisFailure(ex))
            {
                return Unavailable();
            }
        });
        return app;
    }

    private static IResult Unavailable() => Results.Json(
        new { error = "Service Unavailable", message = "The instance's Redis did not answer; try again." }, statusCode: StatusCodes.Status503ServiceUnavailable);
}
