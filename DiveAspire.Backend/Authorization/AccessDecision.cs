using DiveAspire.Backend.Catalog;

namespace DiveAspire.Backend.Authorization;

public sealed record Subject(string UserId, string Clearance, string Country, IReadOnlyList<string> Cois);

public sealed record Decision(bool Allow, string Reason);

/// <summary>
/// ACP-240 style attribute check, failing closed: the clearance must dominate the classification (UNCLASSIFIED &lt; RESTRICTED &lt;
/// CONFIDENTIAL &lt; SECRET &lt; TOP_SECRET, NATO levels alike), the resource must be releasable to the caller's country,
/// and when the resource has communities of interest the caller must belong to at least one.
/// </summary>
public static class AccessDecision
{
    public static Decision Decide(Subject subject, Resource resource)
    {
        if (Classification.Level(resource.Classification) is not { } required)
        {
            return new(false, $"Unknown classification {resource.Classification}");
        }
        if (Classification.Level(subject.Clearance) is not { } held)
        {
            return new(false, $"Unknown clearance {subject.Clearance}");
        }
        if (held < required)
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
}
