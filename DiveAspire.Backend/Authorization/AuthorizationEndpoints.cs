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
                return Wire.Json(new ErrorBody("Not Found", $"Resource '{resourceId}' does not exist on {instance.Code}"), statusCode: StatusCodes.Status404NotFound);
            }
            var subject = Subject.From(http.User);
            var result = await cache.DecideAsync(subject, resource);
            return Wire.Json(new DecisionResponse(
                resource.ResourceId,
                resource.Classification,
                result.Decision.Allow,
                result.Decision.Reason,
                result.Cached,
                (long)Math.Ceiling(result.Ttl.TotalSeconds),
                instance.Code));
        }).RequireAuthorization().RequireRateLimiting(RateLimitPolicies.Api);

        // Published to every backend of the federation: the hub realm's admin only.
        app.MapPost("/api/admin/authz/invalidate", async (InvalidateRequest? body, DecisionCache cache) =>
        {
            if (!Enum.TryParse<InvalidationScope>(body?.Scope, ignoreCase: true, out var scope) || !Enum.IsDefined(scope) || int.TryParse(body?.Scope, out _))
            {
                return Wire.Json(new ErrorBody("Bad Request", "scope must be all, user or resource"), statusCode: StatusCodes.Status400BadRequest);
            }
            if (scope != InvalidationScope.All && string.IsNullOrWhiteSpace(body!.Identifier))
            {
                return Wire.Json(new ErrorBody("Bad Request", $"identifier is required for scope {body.Scope}"), statusCode: StatusCodes.Status400BadRequest);
            }
            if (body!.Identifier is { } identifier && (identifier.Length > MaxIdentifierLength || Validation.SafeText.Problem(identifier) is not null))
            {
                return Wire.Json(new ErrorBody("Bad Request", $"identifier is up to {MaxIdentifierLength} printable characters"), statusCode: StatusCodes.Status400BadRequest);
            }
            var (deleted, published) = await cache.InvalidateAsync(scope, scope == InvalidationScope.All ? null : body!.Identifier);
            return Wire.Json(new InvalidationResponse(scope.ToString().ToLowerInvariant(), body!.Identifier, deleted, published));
        }).RequireAuthorization(AuthenticationSetup.FederationAdminPolicy).RequireRateLimiting(RateLimitPolicies.Admin);
        return app;
    }
}

public sealed record InvalidateRequest(string? Scope, string? Identifier);

public sealed record DecisionResponse(string ResourceId, string Classification, bool Allow, string Reason, bool Cached, long TtlSeconds, string Instance);

public sealed record InvalidationResponse(string Scope, string? Identifier, long KeysDeleted, bool Published);
