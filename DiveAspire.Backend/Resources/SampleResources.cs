using DiveAspire.Topology;

namespace DiveAspire.Backend.Resources;

/// <summary>A document marked with a classification and the countries it may be released to ("NATO" = every member).</summary>
public sealed record SampleResource(string Id, string Title, string Classification, IReadOnlyList<string> ReleasableTo, IReadOnlyList<string> Coi)
{
    public const string AllNato = "NATO";

    public bool IsReleasableTo(string? country)
    {
        if (string.IsNullOrWhiteSpace(country))
        {
            return false;
        }
        var code = country.Trim().ToUpperInvariant();
        return ReleasableTo.Contains(code) || (ReleasableTo.Contains(AllNato) && NatoCatalog.TryGet(code, out var c) && c.Membership == Membership.Nato);
    }
}

public static class SampleResources
{
    public static readonly IReadOnlyList<SampleResource> All =
    [
        new("doc-001", "Exercise schedule (public release)", "UNCLASSIFIED", [SampleResource.AllNato], []),
        new("doc-002", "Logistics hub capacity", "NATO_RESTRICTED", [SampleResource.AllNato], ["NATO"]),
        new("doc-003", "Eastern flank readiness summary", "NATO_CONFIDENTIAL", ["USA", "ROU", "BEL", "DNK", "POL"], ["NATO"]),
        new("doc-004", "Black Sea maritime picture", "SECRET", ["USA", "ROU"], ["NATO"]),
        new("doc-005", "Benelux air policing plan", "NATO_SECRET", ["BEL", "NLD", "LUX", "USA"], ["NATO"]),
        new("doc-006", "Strategic assessment", "COSMIC_TOP_SECRET", [SampleResource.AllNato], ["NATO"]),
        new("doc-007", "US national annex", "TOP_SECRET", ["USA"], ["FVEY"]),
        new("doc-008", "Baltic approaches survey", "CONFIDENTIAL", ["DNK", "USA", "DEU"], ["NATO"]),
    ];

    /// <summary>The documents a caller may see: classification at most the clearance, and released to the caller's country.</summary>
    public static IEnumerable<SampleResource> VisibleTo(string? clearance, string? country) =>
        All.Where(r => Classification.Level(r.Classification) <= Classification.Level(clearance) && r.IsReleasableTo(country));
}
