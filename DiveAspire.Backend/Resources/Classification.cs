namespace DiveAspire.Backend.Resources;

/// <summary>Ranks national and NATO classifications on one scale, so a clearance can be compared with a document's marking.</summary>
public static class Classification
{
    private static readonly Dictionary<string, int> Levels = new(StringComparer.Ordinal)
    {
        ["UNCLASSIFIED"] = 0, ["NATO_UNCLASSIFIED"] = 0,
        ["RESTRICTED"] = 1, ["NATO_RESTRICTED"] = 1,
        ["CONFIDENTIAL"] = 2, ["NATO_CONFIDENTIAL"] = 2,
        ["SECRET"] = 3, ["NATO_SECRET"] = 3,
        ["TOP_SECRET"] = 4, ["COSMIC_TOP_SECRET"] = 4,
    };

    /// <summary>Upper case, spaces and '-' as '_' (the facts file's normalisation).</summary>
    public static string Normalise(string? value) => (value ?? "").Trim().ToUpperInvariant().Replace(' ', '_').Replace('-', '_');

    /// <summary>The level of a marking; an unknown clearance ranks as UNCLASSIFIED (sees the least).</summary>
    public static int Level(string? value) => Levels.TryGetValue(Normalise(value), out var level) ? level : 0;

    public static bool IsKnown(string? value) => Levels.ContainsKey(Normalise(value));
}
