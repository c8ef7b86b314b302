using DiveAspire.Backend.Authorization;
using DiveAspire.Backend.Catalog;
using Resource = DiveAspire.Backend.Catalog.Resource;
using DiveAspire.Backend.Instance;

namespace DiveAspire.Tests.Unit;

public sealed class AccessDecisionTests
{
    private static Resource Doc(string classification, string[]? rel = null, string[]? coi = null) =>
        new("DOC-1", "t", classification, rel ?? ["USA", "ROU"], coi ?? [], "USA");

    private static Subject User(string clearance, string country = "USA", params string[] coi) => new("u", clearance, country, coi);

    [Theory]
    [InlineData("SECRET", "CONFIDENTIAL", true)]
    [InlineData("SECRET", "SECRET", true)]
    [InlineData("SECRET", "TOP_SECRET", false)]
    [InlineData("NATO_SECRET", "NATO_CONFIDENTIAL", true)]
    [InlineData("NATO_CONFIDENTIAL", "NATO_SECRET", false)]
    [InlineData("COSMIC_TOP_SECRET", "TOP_SECRET", true)]
    [InlineData("UNCLASSIFIED", "NATO_RESTRICTED", false)]
    [InlineData("nato-secret", "Nato Secret", true)]
    public void Clearance_must_dominate_the_classification(string clearance, string classification, bool allowed) =>
        Assert.Equal(allowed, AccessDecision.Decide(User(clearance), Doc(classification)).Allow);

    [Fact]
    public void Unknown_levels_fail_closed()
    {
        Assert.False(AccessDecision.Decide(User("SECRET"), Doc("EYES_ONLY")).Allow);
        Assert.False(AccessDecision.Decide(User("GENERAL"), Doc("UNCLASSIFIED")).Allow);
    }

    [Fact]
    public void Releasability_must_contain_the_callers_country()
    {
        Assert.True(AccessDecision.Decide(User("SECRET", "rou"), Doc("SECRET")).Allow);
        var denied = AccessDecision.Decide(User("SECRET", "BEL"), Doc("SECRET"));
        Assert.False(denied.Allow);
        Assert.Contains("BEL", denied.Reason);
        Assert.False(AccessDecision.Decide(User("SECRET"), Doc("SECRET", rel: [])).Allow);
    }

    [Fact]
    public void A_resource_with_cois_needs_one_in_common()
    {
        Assert.True(AccessDecision.Decide(User("SECRET", "USA", "FVEY"), Doc("SECRET", coi: ["NATO", "FVEY"])).Allow);
        Assert.False(AccessDecision.Decide(User("SECRET", "USA", "CAN-US"), Doc("SECRET", coi: ["NATO"])).Allow);
        Assert.True(AccessDecision.Decide(User("SECRET", "USA"), Doc("SECRET")).Allow);
    }

    [Theory]
    [InlineData("UNCLASSIFIED", 120)]
    [InlineData("CONFIDENTIAL", 60)]
    [InlineData("SECRET", 30)]
    [InlineData("TOP_SECRET", 15)]
    [InlineData("NATO_UNCLASSIFIED", 120)]
    [InlineData("NATO_RESTRICTED", 90)]
    [InlineData("NATO_CONFIDENTIAL", 60)]
    [InlineData("NATO_SECRET", 30)]
    [InlineData("COSMIC_TOP_SECRET", 15)]
    [InlineData("top secret", 15)]
    [InlineData("nato-restricted", 90)]
    [InlineData("SOMETHING_ELSE", 60)]
    public void Cache_ttl_follows_the_normalised_classification(string classification, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Classification.CacheTtl(classification));

    private static readonly IReadOnlyList<Resource> RouSeed = ResourceCatalog.Seed(new InstanceInfo("ROU", "spoke", ["USA", "ROU", "BEL"], "process", "USA"));

    /// <summary>The GET /api/resources filter over ROU's seeded catalog: clearance dominance, releasability and COI together.</summary>
    [Theory]
    [InlineData("SECRET", "USA", "NATO", new[] { "UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "NATO_UNCLASSIFIED", "NATO_RESTRICTED", "NATO_CONFIDENTIAL", "NATO_SECRET" })]
    [InlineData("CONFIDENTIAL", "ROU", "NATO", new[] { "UNCLASSIFIED", "CONFIDENTIAL", "NATO_UNCLASSIFIED", "NATO_RESTRICTED", "NATO_CONFIDENTIAL" })]
    [InlineData("nato-secret", "bel", "", new[] { "UNCLASSIFIED", "CONFIDENTIAL", "SECRET" })]
    [InlineData("COSMIC_TOP_SECRET", "BEL", "FVEY,NATO", new[] { "UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP_SECRET", "NATO_UNCLASSIFIED", "NATO_RESTRICTED", "NATO_CONFIDENTIAL", "NATO_SECRET", "COSMIC_TOP_SECRET" })]
    [InlineData("UNCLASSIFIED", "USA", "NATO", new[] { "UNCLASSIFIED", "NATO_UNCLASSIFIED" })]
    [InlineData("TOP_SECRET", "DNK", "NATO", new string[0])]
    [InlineData("TOP_SECRET", "", "NATO", new string[0])]
    [InlineData("BOGUS", "USA", "NATO", new string[0])]
    public void The_listing_shows_exactly_what_the_decision_allows(string clearance, string country, string cois, string[] expected)
    {
        var subject = new Subject("u", clearance, country, cois.Split(',', StringSplitOptions.RemoveEmptyEntries));
        var visible = AccessDecision.Visible(subject, RouSeed).Select(r => r.ResourceId).ToList();
        Assert.Equal(expected.Select(c => $"ROU-{c}-001"), visible);
        Assert.All(RouSeed, r => Assert.Equal(visible.Contains(r.ResourceId), AccessDecision.Decide(subject, r).Allow));
    }

    [Theory]
    [InlineData("BOGUS", "UNCLASSIFIED", false)]
    [InlineData("", "UNCLASSIFIED", false)]
    [InlineData("COSMIC_TOP_SECRET", "EYES_ONLY", false)]
    [InlineData("COSMIC_TOP_SECRET", null, false)]
    [InlineData("UNCLASSIFIED", "NATO_UNCLASSIFIED", true)]
    [InlineData("top-secret", "Cosmic Top Secret", true)]
    public void Unknown_clearances_dominate_nothing_and_unknown_markings_are_dominated_by_nothing(string clearance, string? marking, bool dominates) =>
        Assert.Equal(dominates, Classification.Dominates(clearance, marking));

    [Fact]
    public void An_unknown_marking_is_never_visible_even_to_the_highest_clearance()
    {
        var subject = new Subject("u", "COSMIC_TOP_SECRET", "USA", ["NATO", "FVEY"]);
        Assert.Empty(AccessDecision.Visible(subject, [Doc("EYES_ONLY"), Doc("")]));
        Assert.Single(AccessDecision.Visible(subject, [Doc("EYES_ONLY"), Doc("top secret")]));
    }
}
