using DiveAspire.Topology;

namespace DiveAspire.Tests.Unit;

public class NatoCatalogTests
{
    [Fact]
    public void Catalog_has_32_members_and_6_partners_with_unique_codes_and_offsets()
    {
        Assert.Equal(32, NatoCatalog.All.Count(c => c.Membership == Membership.Nato));
        Assert.Equal(6, NatoCatalog.All.Count(c => c.Membership == Membership.Partner));
        Assert.Equal(38, NatoCatalog.All.Select(c => c.Code).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 38), NatoCatalog.All.Select(c => c.Offset).Order());
    }

    [Theory]
    [InlineData("USA", 0)]
    [InlineData("ALB", 1)]
    [InlineData("BEL", 2)]
    [InlineData("BGR", 3)]
    [InlineData("CAN", 4)]
    [InlineData("HRV", 5)]
    [InlineData("CZE", 6)]
    [InlineData("DNK", 7)]
    [InlineData("MKD", 21)]
    [InlineData("ROU", 25)]
    [InlineData("TUR", 30)]
    [InlineData("GBR", 31)]
    [InlineData("AUS", 32)]
    [InlineData("NZL", 33)]
    [InlineData("JPN", 34)]
    [InlineData("KOR", 35)]
    [InlineData("ISR", 36)]
    [InlineData("UKR", 37)]
    public void Offsets_follow_the_alphabetical_rule(string code, int offset) =>
        Assert.Equal(offset, NatoCatalog.Get(code).Offset);

    [Fact]
    public void Member_offsets_are_alphabetical_by_english_short_name()
    {
        var members = NatoCatalog.All.Where(c => c.Membership == Membership.Nato && c.Code != "USA").OrderBy(c => c.Offset).Select(c => c.Name).ToList();
        Assert.Equal(members.Order(StringComparer.Ordinal), members);
        Assert.Contains("Czechia", members);
        Assert.Contains("North Macedonia", members);
    }

    [Theory]
    [InlineData("rou")]
    [InlineData("Rou")]
    [InlineData(" ROU ")]
    public void Lookup_is_case_insensitive(string code) => Assert.Equal("ROU", NatoCatalog.Get(code).Code);

    [Fact]
    public void Unknown_code_names_the_valid_codes()
    {
        var ex = Assert.Throws<TopologyException>(() => NatoCatalog.Get("XYZ"));
        Assert.Contains("XYZ", ex.Message);
        Assert.Contains("USA", ex.Message);
        Assert.Contains("UKR", ex.Message);
    }

    [Fact]
    public void Every_country_has_locale_timezone_and_members_a_join_year()
    {
        foreach (var c in NatoCatalog.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Locale));
            Assert.NotNull(TimeZoneInfo.FindSystemTimeZoneById(c.TimeZone));
            Assert.Equal(c.Membership == Membership.Nato, c.NatoJoinYear is not null);
        }
    }
}
