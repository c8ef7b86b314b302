namespace DiveAspire.Backend.Authorization;

/// <summary>
/// The one classification scale of the backend: names (national and NATO), their levels for clearance dominance, and the
/// decision-cache TTLs. Unknown markings fail closed on both sides: an unknown clearance dominates nothing (it sees the
/// least: no document at all), and an unknown document marking is dominated by no clearance (the most restrictive: never visible).
/// </summary>
public static class Classification
{
    private static readonly Dictionary<string, (int Level, int TtlSeconds)> Table = new()
    {
        ["UNCLASSIFIED"] = (0, 120),
        ["RESTRICTED"] = (1, 90),
        ["CONFIDENTIAL"] = (2, 60),
        ["SECRET"] = (3, 30),
        ["TOP_SECRET"] = (4, 15),
        ["NATO_UNCLASSIFIED"] = (0, 120),
        ["NATO_RESTRICTED"] = (1, 90),
        ["NATO_CONFIDENTIAL"] = (2, 60),
        ["NATO_SECRET"] = (3, 30),
        ["COSMIC_TOP_SECRET"] = (4, 15),
    };

    public const int UnknownTtlSeconds = 60;

    public static IEnumerable<string> Known => Table.Keys;

    /// <summary>Upper case, spaces and '-' to '_': "nato-secret" and "Nato Secret" are NATO_SECRET; blank is null.</summary>
    public static string? Normalise(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null : text.Trim().ToUpperInvariant().Replace(' ', '_').Replace('-', '_');

    public static bool IsKnown(string? text) => Table.ContainsKey(Normalise(text) ?? "");

    /// <summary>The level of a known marking (0 UNCLASSIFIED .. 4 TOP_SECRET / COSMIC_TOP_SECRET); null when unknown.</summary>
    public static int? Level(string? text) => Table.TryGetValue(Normalise(text) ?? "", out var entry) ? entry.Level : null;

    /// <summary>Whether the clearance is at least the marking; false when either is unknown (see the class summary).</summary>
    public static bool Dominates(string? clearance, string? marking) =>
        Level(clearance) is { } held && Level(marking) is { } required && held >= required;

    public static TimeSpan CacheTtl(string? text) =>
        TimeSpan.FromSeconds(Table.TryGetValue(Normalise(text) ?? "", out var entry) ? entry.TtlSeconds : UnknownTtlSeconds);
}
