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
        app.MapGet("/api/resources", async (HttpContext http, ResourceCatalog catalog, InstanceInfo instance) =>
        {
            var listing = await catalog.ListingAsync(CatalogPrefetch.ReadFor(http, catalog));
            var subject = Subject.From(http.User);
            var country = http.User.CountryOfAffiliation();
            var body = listing.Body(CallerKey(subject, country), (subject, country, instance), static (resources, state) =>
            {
                var (subject, country, instance) = state;
                var visible = AccessDecision.Visible(subject, resources).ToList();
                return JsonSerializer.SerializeToUtf8Bytes(new ResourceListing(
                    instance.Code,
                    Classification.Normalise(subject.Clearance),
                    country?.ToUpperInvariant(),
                    visible.Count,
                    visible.Select(r => new ResourceSummary(r.ResourceId, r.Title, r.Classification, r.ReleasabilityTo, r.Coi))), Wire.Info<ResourceListing>());
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

/// <summary>The body of GET /api/resources.</summary>
public sealed record ResourceListing(string Instance, string? Clearance, string? Country, int Count, IEnumerable<ResourceSummary> Resources);

public sealed record ResourceSummary(string Id, string Title, string Classification, IReadOnlyList<string> ReleasableTo, IReadOnlyList<string> Coi);
