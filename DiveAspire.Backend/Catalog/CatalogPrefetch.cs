using DiveAspire.Backend.RateLimiting;
using StackExchange.Redis;

namespace DiveAspire.Backend.Catalog;

/// <summary>
/// GET /api/resources needs two commands on the instance's Redis: the rate limiter's script, then the catalog's HGETALL.
/// This middleware, placed before the rate limiter, sends the HGETALL first without awaiting it, so both go out together
/// and come back in one round trip. The read still starts after the request arrived, so an upload acknowledged before
/// the request is in it, as before. A caller whose api window refused its last request (<see cref="RefusedClients"/>,
/// until that window resets) is not read ahead: its requests are refused (429) without the HGETALL of a catalog that has
/// no size limit, and one that is admitted again (another replica's reset, an admin reset) reads after the limiter.
/// <c>Dive:Catalog:Prefetch=off</c> reads after the limiter (the bench's baseline).
/// </summary>
public static class CatalogPrefetch
{
    private sealed class Marker
    {
        public static readonly Marker Instance = new();
    }

    private sealed record Pending(Task<HashEntry[]?> Read);

    /// <summary>Marks an endpoint whose handler reads the catalog with <see cref="ReadFor"/>.</summary>
    public static TBuilder PrefetchesCatalog<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(Marker.Instance);

    /// <summary>After authentication (only an authenticated caller reaches the handler), before the rate limiter.</summary>
    public static IApplicationBuilder UseCatalogPrefetch(this IApplicationBuilder app, IConfiguration config)
    {
        if (string.Equals(config["Dive:Catalog:Prefetch"], "off", StringComparison.OrdinalIgnoreCase))
        {
            return app;
        }
        var catalog = app.ApplicationServices.GetRequiredService<ResourceCatalog>();
        var refused = app.ApplicationServices.GetRequiredService<RefusedClients>();
        var apiWindows = RateLimitPolicies.KeyPrefix(RateLimitPolicies.Api);
        return app.Use((http, next) =>
        {
            if (http.User.Identity?.IsAuthenticated == true && http.GetEndpoint()?.Metadata.GetMetadata<Marker>() is not null
                && !(refused.Any && refused.IsRefused(apiWindows + ClientAddress.Key(http))))
            {
                http.Features.Set(new Pending(catalog.ReadUploadsAsync()));
            }
            return next(http);
        });
    }

    /// <summary>The read this request started before the limiter, else a new one.</summary>
    public static Task<HashEntry[]?> ReadFor(HttpContext http, ResourceCatalog catalog) =>
        http.Features.Get<Pending>()?.Read ?? catalog.ReadUploadsAsync();
}
