using DiveAspire.Backend.RateLimiting;
using DiveAspire.Backend.Instance;

namespace DiveAspire.Backend.Catalog;

public static class CatalogEndpoints
{
    public static IServiceCollection AddResourceCatalog(this IServiceCollection services) =>
        services.AddSingleton<ResourceCatalog>();

    public static IEndpointRouteBuilder MapUpload(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/upload", async (UploadRequest? body, ResourceCatalog catalog, InstanceInfo instance, HttpContext http) =>
        {
            if (body?.Validate() is { } problem)
            {
                return Results.Json(new { error = "Bad Request", message = problem }, statusCode: StatusCodes.Status400BadRequest);
            }
            var resource = body!.ToResource(instance);
            await catalog.SaveAsync(resource);
            await http.RequestServices.GetRequiredService<Authorization.DecisionCache>().InvalidateAsync(Authorization.InvalidationScope.Resource, resource.ResourceId);
            return Results.Json(resource, statusCode: StatusCodes.Status201Created);
        }).RequireAuthorization().RequireRateLimiting(RateLimitPolicies.Upload);
        return app;
    }
}

public sealed record UploadRequest(string? ResourceId, string? Title, string? Classification, string[]? ReleasabilityTo, string[]? Coi)
{
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(ResourceId) || ResourceId.Length > 128 || ResourceId.Any(c => char.IsWhiteSpace(c) || c is ':' or '*'))
        {
            return "resourceId is required (up to 128 characters, no spaces, ':' or '*')";
        }
        if (string.IsNullOrWhiteSpace(Title))
        {
            return "title is required";
        }
        if (!Authorization.Classification.IsKnown(Classification))
        {
            return $"classification must be one of {string.Join(", ", Authorization.Classification.Known)}";
        }
        return null;
    }

    public Resource ToResource(InstanceInfo instance) => new(
        ResourceId!, Title!, Authorization.Classification.Normalise(Classification)!,
        [.. (ReleasabilityTo ?? []).Select(c => c.Trim().ToUpperInvariant())],
        [.. (Coi ?? []).Select(c => c.Trim())],
        instance.Code);
}
