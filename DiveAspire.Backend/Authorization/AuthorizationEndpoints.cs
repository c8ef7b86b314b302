using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Catalog;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.RateLimiting;

namespace DiveAspire.Backend.Authorization;

public static class AuthorizationEndpoints
{
    private const int MaxIdentifierLength = 512;

    public static IServiceCollection AddDecisionCache(this IServiceCollection services) =>
        services.AddSingleton<DecisionCache>().AddHostedService<InvalidationSubscriber>();

    public static IEndpointRouteBuilder MapAuthorization(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/authz/decision/{resourceId}", async (string resourceId, HttpContext http, ResourceCatalog catalog, DecisionCache cache, InstanceInfo instance) =>
        {
            if (await catalog.FindAsync(resourceId) is not { } resource)
            {
                return Results.Json(new { error = "Not Found", message = $"Resource '{resourceId}' does not exist on {instance.Code}" }, statusCode: StatusCodes.Status404NotFound);
            }
            var subject = Subject.From(http.User);
            var result = await cache.DecideAsync(subject, resource);
            return Results.Json(new
            {
                resourceId = resource.ResourceId,
                classification = resource.Classification,
                allow = result.Decision.Allow,
                reason = result.Decision.Reason,
                cached = result.Cached,
                ttlSeconds = (long)Math.Ceiling(result.Ttl.TotalSeconds),
                instance = instance.Code,
            });
        }).RequireAuthorization().RequireRateLimiting(RateLimitPolicies.Api);

        // Published to every backend of the federation: the hub realm's admin only.
        app.MapPost("/api/admin/authz/invalidate", async (InvalidateRequest? body, DecisionCache cache) =>
        {
            if (!Enum.TryParse<InvalidationScope>(body?.Scope, ignoreCase: true, out var scope) || !Enum.IsDefined(scope) || int.TryParse(body?.Scope, out _))
            {
                return Results.Json(new { error = "Bad Request", message = "scope must be all, user or resource" }, statusCode: StatusCodes.Status400BadRequest);
            }
            if (scope != InvalidationScope.All && string.IsNullOrWhiteSpace(body!.Identifier))
            {
                return Results.Json(new { error = "Bad Request", message = $"identifier is required for scope {body.Scope}" }, statusCode: StatusCodes.Status400BadRequest);
            }
            if (body!.Identifier is { } identifier && (identifier.Length > MaxIdentifierLength || Validation.SafeText.Problem(identifier) is not null))
            {
                return Results.Json(new { error = "Bad Request", message = $"identifier is up to {MaxIdentifierLength} printable characters" }, statusCode: StatusCodes.Status400BadRequest);
            }
            var (deleted, published) = await cache.InvalidateAsync(scope, scope == InvalidationScope.All ? null : body!.Identifier);
            return Results.Json(new { scope = scope.ToString().ToLowerInvariant(), identifier = body!.Identifier, keysDeleted = deleted, published });
        }).RequireAuthorization(AuthenticationSetup.FederationAdminPolicy).RequireRateLimiting(RateLimitPolicies.Admin);
        return app;
    }
}

public sealed record InvalidateRequest(string? Scope, string? Identifier);
