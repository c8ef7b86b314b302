using System.Globalization;
using System.Text;
using System.Text.Json;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Authorization;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.RateLimiting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace DiveAspire.Backend.Catalog;

public static class ResourceEndpoints
{
    private const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>GET /api/resources: this instance's catalog (seed + uploads) as far as <see cref="AccessDecision"/> allows the caller.</summary>
    public static IEndpointRouteBuilder MapResources(this IEndpointRouteBuilder app)
    {
        var json = app.ServiceProvider.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        app.MapGet("/api/resources", async (HttpContext http, ResourceCatalog catalog, InstanceInfo instance) =>
        {
            var listing = await catalog.ListingAsync(CatalogPrefetch.ReadFor(http, catalog));
            var subject = Subject.From(http.User);
            var country = http.User.CountryOfAffiliation();
            var body = listing.Body(CallerKey(subject, country), (subject, country, instance, json), static (resources, state) =>
            {
                var (subject, country, instance, json) = state;
                var visible = AccessDecision.Visible(subject, resources).ToList();
                return JsonSerializer.SerializeToUtf8Bytes(new
                {
                    instance = instance.Code,
                    clearance = Classification.Normalise(subject.Clearance),
                    country = country?.ToUpperInvariant(),
                    count = visible.Count,
                    resources = visible.Select(r => new { id = r.ResourceId, title = r.Title, classification = r.Classification, releasableTo = r.ReleasabilityTo, coi = r.Coi }),
                }, json);
            });
            return Results.Bytes(body, JsonContentType);
        }).RequireAuthorization().RequireRateLimiting(RateLimitPolicies.Api).PrefetchesCatalog();
        return app;
    }

    /// <summary>
    /// Every caller attribute the body depends on (clearance, country or its absence, COIs in order), each length-prefixed
    /// so that no two different attribute sets share a key whatever characters their values hold.
    /// </summary>
    public static string CallerKey(Subject subject, string? country)
    {
        var key = new StringBuilder();
        Append(subject.Clearance);
        Append(country);
        foreach (var coi in subject.Cois)
        {
            Append(coi);
        }
        return key.ToString();

        void Append(string? value) => key.Append((value?.Length ?? -1).ToString(CultureInfo.InvariantCulture)).Append(':').Append(value);
    }
}
