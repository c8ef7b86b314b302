using System.Collections.Frozen;

namespace DiveAspire.Topology;

/// <summary>
/// All 32 NATO members and the 6 partner nations. The hub (USA) has offset 0; the other 31 members get
/// offsets 1..31 in alphabetical order of their English short name; partners have fixed offsets 32..37.
/// </summary>
public static class NatoCatalog
{
    public const string HubCode = "USA";

    private sealed record Entry(string Code, string Name, string Locale, string TimeZone, int? JoinYear);

    private static readonly Entry[] Members =
    [
        new("ALB", "Albania", "sq-AL", "Europe/Tirane", 2009),
        new("BEL", "Belgium", "nl-BE", "Europe/Brussels", 1949),
        new("BGR", "Bulgaria", "bg-BG", "Europe/Sofia", 2004),
        new("CAN", "Canada", "en-CA", "America/Toronto", 1949),
        new("HRV", "Croatia", "hr-HR", "Europe/Zagreb", 2009),
        new("CZE", "Czechia", "cs-CZ", "Europe/Prague", 1999),
        new("DNK", "Denmark", "da-DK", "Europe/Copenhagen", 1949),
        new("EST", "Estonia", "et-EE", "Europe/Tallinn", 2004),
        new("FIN", "Finland", "fi-FI", "Europe/Helsinki", 2023),
        new("FRA", "France", "fr-FR", "Europe/Paris", 1949),
        new("DEU", "Germany", "de-DE", "Europe/Berlin", 1955),
        new("GRC", "Greece", "el-GR", "Europe/Athens", 1952),
        new("HUN", "Hungary", "hu-HU", "Europe/Budapest", 1999),
        new("ISL", "Iceland", "is-IS", "Atlantic/Reykjavik", 1949),
        new("ITA", "Italy", "it-IT", "Europe/Rome", 1949),
        new("LVA", "Latvia", "lv-LV", "Europe/Riga", 2004),
        new("LTU", "Lithuania", "lt-LT", "Europe/Vilnius", 2004),
        new("LUX", "Luxembourg", "fr-LU", "Europe/Luxembourg", 1949),
        new("MNE", "Montenegro", "sr-Latn-ME", "Europe/Podgorica", 2017),
        new("NLD", "Netherlands", "nl-NL", "Europe/Amsterdam", 1949),
        new("MKD", "North Macedonia", "mk-MK", "Europe/Skopje", 2020),
        new("NOR", "Norway", "nb-NO", "Europe/Oslo", 1949),
        new("POL", "Poland", "pl-PL", "Europe/Warsaw", 1999),
        new("PRT", "Portugal", "pt-PT", "Europe/Lisbon", 1949),
        new("ROU", "Romania", "ro-RO", "Europe/Bucharest", 2004),
        new("SVK", "Slovakia", "sk-SK", "Europe/Bratislava", 2004),
        new("SVN", "Slovenia", "sl-SI", "Europe/Ljubljana", 2004),
        new("ESP", "Spain", "es-ES", "Europe/Madrid", 1982),
        new("SWE", "Sweden", "sv-SE", "Europe/Stockholm", 2024),
        new("TUR", "Turkey", "tr-TR", "Europe/Istanbul", 1952),
        new("GBR", "United Kingdom", "en-GB", "Europe/London", 1949),
    ];

    private static readonly (Entry Entry, int Offset)[] Partners =
    [
        (new("AUS", "Australia", "en-AU", "Australia/Sydney", null), 32),
        (new("NZL", "New Zealand", "en-NZ", "Pacific/Auckland", null), 33),
        (new("JPN", "Japan", "ja-JP", "Asia/Tokyo", null), 34),
        (new("KOR", "South Korea", "ko-KR", "Asia/Seoul", null), 35),
        (new("ISR", "Israel", "he-IL", "Asia/Jerusalem", null), 36),
        (new("UKR", "Ukraine", "uk-UA", "Europe/Kyiv", null), 37),
    ];

    public static IReadOnlyList<Country> All { get; } = Build();

    private static readonly FrozenDictionary<string, Country> ByCode =
        All.ToFrozenDictionary(c => c.Code, StringComparer.OrdinalIgnoreCase);

    public static Country Hub => ByCode[HubCode];

    public static IEnumerable<string> Codes => All.Select(c => c.Code);

    public static bool TryGet(string? code, out Country country)
    {
        country = null!;
        return code is not null && ByCode.TryGetValue(code.Trim(), out country!);
    }

    /// <summary>Case-insensitive lookup; an unknown code throws with the list of valid codes.</summary>
    public static Country Get(string? code) =>
        TryGet(code, out var country)
            ? country
            : throw new TopologyException(
                $"Unknown instance code '{code}'. Valid codes: {string.Join(", ", Codes)}.");

    private static List<Country> Build()
    {
        var list = new List<Country>
        {
            new(HubCode, "United States", 0, Membership.Nato, "en-US", "America/New_York", 1949),
        };
        var offset = 1;
        foreach (var m in Members.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            list.Add(new(m.Code, m.Name, offset++, Membership.Nato, m.Locale, m.TimeZone, m.JoinYear));
        }
        list.AddRange(Partners.Select(p =>
            new Country(p.Entry.Code, p.Entry.Name, p.Offset, Membership.Partner, p.Entry.Locale, p.Entry.TimeZone, null)));
        return list;
    }
}
