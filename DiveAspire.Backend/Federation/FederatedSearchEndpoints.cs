using DiveAspire.Backend.Catalog;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.RateLimiting;

namespace DiveAspire.Backend.FederatedSearch;

public static class FederatedSearchEndpoints
{
    private const int MaxQueryLength = 200;

    public static IServiceCollection AddFederatedSearch(this IServiceCollection services, IConfiguration config)
    {
        var section = config.GetSection("Dive:FederatedSearch");
        var breakSeconds = int.TryParse(section["BreakSeconds"], out var s) && s > 0 ? s : 30;
        var threshold = int.TryParse(section["FailureThreshold"], out var t) && t > 0 ? t : 3;
        services.AddSingleton(sp => new CircuitBreaker(sp.GetRequiredService<TimeProvider>(), threshold, TimeSpan.FromSeconds(breakSeconds)));
        services.AddSingleton<FederatedSearchCache>();
        services.AddSingleton<FederatedSearcher>();
        services.AddHttpClient(FederatedSearcher.HttpClientName);
        return services;
    }

    public static IEndpointRouteBuilder MapFederatedSearch(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/resources/federated-search", async (string? q, HttpContext http, FederatedSearcher search, FederatedSearchCache cache, CancellationToken ct) =>
        {
            if (Invalid(q) is { } problem)
            {
                return problem;
            }
            if (await cache.GetAsync(q!) is { } hit)
            {
                return Respond(hit, cached: true, stored: false, cache.State);
            }
            var outcome = await search.SearchAsync(q!, http.Request.Headers.Authorization.FirstOrDefault(), ct);
            // A partial answer (an instance errored) is never cached: the next call asks that instance again.
            var stored = outcome.Instances.All(i => i.Status == "ok") && await cache.SetAsync(q!, outcome);
            return Respond(outcome, cached: false, stored, cache.State);
        }).RequireAuthorization().RequireRateLimiting(RateLimitPolicies.Api);

        // What a peer's federated search asks this instance: its own catalog only.
        app.MapGet("/api/federation/local-search", async (string? q, ResourceCatalog catalog, InstanceInfo instance) =>
            Invalid(q) ?? Results.Json(new LocalSearchResponse(instance.Code, await catalog.SearchAsync(q!))))
            .RequireAuthorization().RequireRateLimiting(RateLimitPolicies.Api);
        return app;
    }

    private static IResult? Invalid(string? q) =>
        string.IsNullOrWhiteSpace(q) || q.Length > MaxQueryLength
            ? Results.Json(new { error = "Bad Request", message = $"q is required (1 to {MaxQueryLength} characters)" }, statusCode: StatusCodes.Status400BadRequest)
            : null;

    private static IResult Respond(SearchOutcome outcome, bool cached, bool stored, BreakerState breaker) => Results.Json(new
    {
        query = outcome.Query,
        cached,
        stored,
        breaker = breaker.ToString().ToLowerInvariant(),
        total = outcome.Results.Count,
        instances = outcome.Instances,
        results = outcome.Results,
    });
}
