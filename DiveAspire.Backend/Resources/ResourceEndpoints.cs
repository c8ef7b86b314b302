using DiveAspire.Backend.RateLimiting;
using System.Security.Claims;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Instance;

namespace DiveAspire.Backend.Resources;

public static class ResourceEndpoints
{
    public static IEndpointRouteBuilder MapResources(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/resources", (ClaimsPrincipal user, InstanceInfo instance) =>
        {
            var clearance = Classification.Normalise(user.Clearance());
            var country = user.CountryOfAffiliation()?.ToUpperInvariant();
            var visible = SampleResources.VisibleTo(clearance, country).ToList();
            return Results.Json(new
            {
                instance = instance.Code,
                clearance,
                country,
                count = visible.Count,
                resources = visible.Select(r => new { id = r.Id, title = r.Title, classification = r.Classification, releasableTo = r.ReleasableTo, coi = r.Coi }),
            });
        }).RequireAuthorization().RequireRateLimiting(RateLimitPolicies.Api);
        return app;
    }
}
