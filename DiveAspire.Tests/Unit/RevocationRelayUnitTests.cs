using System.Security.Claims;
using Aspire.Hosting;
using DiveAspire.AppHost;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Revocation;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.Tests.Unit;

/// <summary>A remote spoke's revocation relay: where it may send users' tokens, and which relays the hub records.</summary>
public sealed class RevocationRelayUnitTests
{
    private static RevocationOptions Options(params (string Key, string Value)[] settings) =>
        RevocationOptions.From(new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(s => s.Key, s => (string?)s.Value)).Build());

    [Theory]
    [InlineData("https://hub.example.org:4000")]
    [InlineData("http://127.0.0.1:4000")]
    [InlineData("http://localhost:4000")]
    public void Https_or_this_machine_is_a_relay_without_more_ado(string url) =>
        Assert.Equal(new Uri(url), Options((RevocationOptions.RelayKey, url)).Relay);

    [Fact]
    public void Plain_http_to_another_machine_needs_the_explicit_setting_review_R1()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Options((RevocationOptions.RelayKey, "http://10.0.0.5:4000")));
        Assert.Contains(RevocationOptions.AllowPlaintextRelayKey, error.Message);
        Assert.NotNull(Options((RevocationOptions.RelayKey, "http://10.0.0.5:4000"), (RevocationOptions.AllowPlaintextRelayKey, "true")).Relay);
    }

    [Theory]
    [InlineData("hub:4000")]
    [InlineData("https://hub.example.org/api")]
    [InlineData("https://user:pw@hub.example.org")]
    [InlineData("ftp://hub.example.org")]
    public void A_relay_is_the_hub_backends_url_and_nothing_else(string url) =>
        Assert.Throws<InvalidOperationException>(() => Options((RevocationOptions.RelayKey, url)));

    [Fact]
    public void Joining_over_plain_http_stops_the_apphost_with_one_line_unless_said()
    {
        var join = new JoinSettings(new Uri("http://10.0.0.5:4000"), "10.0.0.5:6479");
        var error = Assert.Throws<TopologyException>(() => DistributedApplication.CreateBuilder([]).RequirePlaintextRelayConsent(join));
        Assert.Contains(JoinBuilderExtensions.AllowPlaintextRelaySetting, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        DistributedApplication.CreateBuilder([$"{JoinBuilderExtensions.AllowPlaintextRelaySetting}=true"]).RequirePlaintextRelayConsent(join);
        DistributedApplication.CreateBuilder([]).RequirePlaintextRelayConsent(join with { HubUrl = new Uri("https://hub.example.org:4000") });
    }

    private static ClaimsPrincipal Caller(string realm, bool hubRealm) => new(new ClaimsIdentity(
        [new Claim(DiveClaims.RealmClaim, realm), .. hubRealm ? new[] { new Claim(DiveClaims.HubRealmClaim, "true") } : []], "test"));

    [Fact]
    public void A_backend_relays_tokens_of_its_own_realm_and_hub_realm_tokens_only_review_R4()
    {
        Assert.True(RelayCredentials.MayRelay("ROU", Caller("ROU", hubRealm: false)));
        Assert.True(RelayCredentials.MayRelay("ROU", Caller("USA", hubRealm: true)));
        // ROU's operator cannot make BEL the recorded relay of ROU's revocations.
        Assert.False(RelayCredentials.MayRelay("BEL", Caller("ROU", hubRealm: false)));
    }
}
