using DiveAspire.Backend.Authorization;
using DiveAspire.Backend.Catalog;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.RateLimiting;
using Polly;
using Polly.CircuitBreaker;

namespace DiveAspire.Backend.FederatedSearch;

public static class FederatedSearchEndpoints
{
    private const int MaxQueryLength = 200;

    public static IServiceCollection AddFederatedSearch(this IServiceCollection services, IConfiguration config)
    {
        var section = config.GetSection("Dive:FederatedSearch");
        var breakSeconds = int.TryParse(section["BreakSeconds"], out var s) && s > 0 ? s : 30;
        var threshold = int.TryParse(section["FailureThreshold"], out var t) && t > 0 ? t : 3;
        services.AddKeyedSingleton<CircuitBreakerStateProvider>(SearchCacheBreaker.PipelineName);
        services.AddResiliencePipeline(SearchCacheBreaker.PipelineName, (pipeline, context) =>
        {
            pipeline.TimeProvider = context.ServiceProvider.GetRequiredService<TimeProvider>();
            pipeline.AddSearchCacheBreaker(threshold, TimeSpan.FromSeconds(breakSeconds),
                context.ServiceProvider.GetRequiredKeyedService<CircuitBreakerStateProvider>(SearchCacheBreaker.PipelineName));
        });
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
            var caller = Subject.From(http.User);
            if (await cache.GetAsync(q!, caller) is { } hit)
            {
                return Respond(VisibleTo(caller, hit), cached: true, stored: false, cache.State);
            }
            var outcome = await search.SearchAsync(q!, http.User, ct);
            // A partial answer (an instance errored) is never cached: the next call asks that instance again.
            var stored = outcome.Instances.All(i => i.Status == "ok") && await cache.SetAsync(q!, caller, outcome);
            return Respond(VisibleTo(caller, outcome), cached: false, stored, cache.State);
        }).RequireAuthorization().RequireRateLimiting(RateLimitPolicies.Api);

        // What a peer's federated search asks this instance (with a federation credential for its caller, accepted
        // nowhere else): its own catalog, as far as that caller may see it.
        app.MapGet(FederationCredentials.LocalSearchPath, async (string? q, HttpContext http, ResourceCatalog catalog, InstanceInfo instance) =>
            Invalid(q) ?? Wire.Json(new LocalSearchResponse(instance.Code,
                AccessDecision.Visible(Subject.From(http.User), await catalog.SearchAsync(q!)).ToList())))
            .RequireAuthorization(FederationCredentials.Policy).RequireRateLimiting(RateLimitPolicies.Api);
        return app;
    }

    /// <summary>
    /// The cache holds what the federation answered for a query and the caller's access attributes (peers answer per
    /// caller); each caller is still shown only what the ACP-240 decision lets them see.
    /// </summary>
    private static SearchOutcome VisibleTo(Subject caller, SearchOutcome outcome) =>
        outcome with { Results = AccessDecision.Visible(caller, outcome.Results).ToList() };

    private static IResult? Invalid(string? q) =>
        string.IsNullOrWhiteSpace(q) || q.Length > MaxQueryLength
            ? Wire.Json(new ErrorBody("Bad Request", $"q is required (1 to {MaxQueryLength} characters)"), statusCode: StatusCodes.Status400BadRequest)
            : null;

    private static IResult Respond(SearchOutcome outcome, bool cached, bool stored, CircuitState breaker) => Wire.Json(new FederatedSearchResponse(
        outcome.Query, cached, stored, SearchCacheBreaker.Name(breaker), outcome.Results.Count, outcome.Instances, outcome.Results));
}
