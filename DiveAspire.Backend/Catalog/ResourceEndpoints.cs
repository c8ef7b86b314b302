using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Authorization;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.RateLimiting;

namespace DiveAspire.Backend.Catalog;

public static class ResourceEndpoints
{
    /// <summary>GET /api/resources: this instance's catalog (seed + uploads) as far as <see cref="AccessDecision"/> allows the caller.</summary>
    public static IEndpointRouteBuilder MapResources(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/resources", async (HttpContext http, ResourceCatalog catalog, InstanceInfo instance) =>
        {
            var subject = Subject.From(http.User);
            var visible = AccessDecision.Visible(subject, await catalog.AllAsync()).ToList();
            return Results.Json(new
            {
                instance = instance.Code,
                clearance = Classification.Normalise(subject.Clearance),
                country = http.User.CountryOfAffiliation()?.ToUpperInvariant(),
                count = visible.Count,
                resources = visible.Select(r => new { id = r.ResourceId, title = r.Title, classification = r.Classification, releasableTo = r.ReleasabilityTo, coi = r.Coi }),
            });
        }).RequireAuthorization().RequireRateLimiting(RateLimitPolicies.Api);
        return app;
    }
}
