namespace DiveAspire.Backend.Authorization;

/// <summary>Classification names, their levels for clearance dominance (national and NATO scales), and the decision-cache TTLs.</summary>
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

    /// <summary>Upper case, spaces and '-' to '_': "nato-secret" and "Nato Secret" are NATO_SECRET.</summary>
    public static string? Normalise(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null : text.Trim().ToUpperInvariant().Replace(' ', '_').Replace('-', '_');

    public static bool IsKnown(string? normalised) => normalised is not null && Table.ContainsKey(normalised);

    public static int? Level(string? text) => Table.TryGetValue(Normalise(text) ?? "", out var entry) ? entry.Level : null;

    public static TimeSpan CacheTtl(string? text) =>
        TimeSpan.FromSeconds(Table.TryGetValue(Normalise(text) ?? "", out var entry) ? entry.TtlSeconds : UnknownTtlSeconds);
}
