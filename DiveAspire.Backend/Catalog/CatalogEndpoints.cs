using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Authorization;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Metrics;
using DiveAspire.Backend.RateLimiting;

namespace DiveAspire.Backend.Catalog;

public static class CatalogEndpoints
{
    public static IServiceCollection AddResourceCatalog(this IServiceCollection services) =>
        services.AddSingleton<ResourceCatalog>();

    public static IEndpointRouteBuilder MapUpload(this IEndpointRouteBuilder app)
    {
        // The body is required: no body, an empty one or `null` is a 400 from the framework (see Errors/JsonErrors).
        app.MapPost("/api/upload", async (UploadRequest body, ResourceCatalog catalog, DecisionCache decisions, InstanceInfo instance,
            HttpContext http, ILogger<UploadRequest> logger) =>
        {
            if (body.Validate() is { } problem)
            {
                return Wire.Json(new ErrorBody("Bad Request", problem), statusCode: StatusCodes.Status400BadRequest);
            }
            var proposed = body.ToResource(instance);
            var existing = await catalog.FindAsync(proposed.ResourceId);
            var (verdict, refusal) = LabelPolicy.Check(http.User, existing, proposed, instance);
            if (verdict == LabelPolicy.Verdict.Relabel)
            {
                DiveMetrics.ResourceRelabels.WithLabels(refusal is null ? "applied" : "refused").Inc();
                logger.LogWarning("Relabel of {ResourceId} from {From} to {To} by {User}: {Outcome}", existing!.ResourceId, existing.Classification,
                    proposed.Classification, http.User.UserId(), refusal is null ? "applied" : "refused");
            }
            if (refusal is not null)
            {
                return Wire.Json(new ErrorBody("Forbidden", refusal), statusCode: StatusCodes.Status403Forbidden);
            }
            // A replacement keeps the stored id's spelling (ids are matched case-insensitively).
            var resource = existing is null ? proposed : proposed with { ResourceId = existing.ResourceId };
            await catalog.SaveAsync(resource);
            await decisions.InvalidateAsync(InvalidationScope.Resource, resource.ResourceId);
            return Wire.Json(resource, statusCode: StatusCodes.Status201Created);
        }).RequireAuthorization().RequireRateLimiting(RateLimitPolicies.Upload);
        return app;
    }
}
