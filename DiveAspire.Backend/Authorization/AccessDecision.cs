using System.Security.Claims;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Catalog;

namespace DiveAspire.Backend.Authorization;

public sealed record Subject(string UserId, string Clearance, string Country, IReadOnlyList<string> Cois)
{
    /// <summary>The caller's attributes from the token; a missing country is "" (releasable to nobody).</summary>
    public static Subject From(ClaimsPrincipal user) =>
        new(user.UserId() ?? "", user.Clearance(), user.CountryOfAffiliation() ?? "", user.Cois());
}

public sealed record Decision(bool Allow, string Reason);

/// <summary>
/// ACP-240 style attribute check, failing closed: the clearance must dominate the classification (UNCLASSIFIED &lt; RESTRICTED &lt;
/// CONFIDENTIAL &lt; SECRET &lt; TOP_SECRET, NATO levels alike; unknown markings per <see cref="Classification"/>), the resource
/// must be releasable to the caller's country, and when the resource has communities of interest the caller must belong to
/// at least one. The decision endpoint and the GET /api/resources listing both use it, so they always agree.
/// </summary>
public static class AccessDecision
{
    public static Decision Decide(Subject subject, Resource resource)
    {
        if (!Classification.IsKnown(resource.Classification))
        {
            return new(false, $"Unknown classification {resource.Classification}");
        }
        if (!Classification.IsKnown(subject.Clearance))
        {
            return new(false, $"Unknown clearance {subject.Clearance}");
        }
        if (!Classification.Dominates(subject.Clearance, resource.Classification))
        {
            return new(false, $"Insufficient clearance: {Classification.Normalise(subject.Clearance)} does not dominate {Classification.Normalise(resource.Classification)}");
        }
        if (!resource.ReleasabilityTo.Contains(subject.Country, StringComparer.OrdinalIgnoreCase))
        {
            return new(false, $"Not releasable to {subject.Country}");
        }
        if (resource.Coi.Count > 0 && !resource.Coi.Intersect(subject.Cois, StringComparer.OrdinalIgnoreCase).Any())
        {
            return new(false, $"No community of interest in common (requires one of {string.Join(", ", resource.Coi)})");
        }
        return new(true, "Access granted");
    }

    /// <summary>The resources the subject may access, in their given order.</summary>
    public static IEnumerable<Resource> Visible(Subject subject, IEnumerable<Resource> resources) =>
        resources.Where(r => Decide(subject, r).Allow);
}
