using System.Net;
using System.Text;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Security;

/// <summary>Forged or malformed bearer tokens: always a 401 JSON answer (431 for a header beyond Kestrel's limit), never a 500.</summary>
[Collection(SecurityCollection.Name)]
[Trait("Category", "Security")]
public sealed class TokenAttackTests(SecurityFixture federation)
{
    private static string Base64Url(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));

    /// <summary>A dev-key token with exactly these claims (no defaults added).</summary>
    private string Sign(Dictionary<string, object> claims) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(federation.Secrets.DevSigningKey)), SecurityAlgorithms.HmacSha256),
        });

    private static Dictionary<string, object> Claims(string user)
    {
        var now = DateTimeOffset.UtcNow;
        return new()
        {
            ["iss"] = Federation.Issuer(NatoCatalog.Hub), ["aud"] = Federation.Audience, ["sub"] = user, ["uniqueID"] = user,
            ["clearance"] = "SECRET", ["countryOfAffiliation"] = "USA", ["jti"] = Guid.NewGuid().ToString(),
            ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = now.AddMinutes(5).ToUnixTimeSeconds(),
        };
    }

    private async Task AssertRefusedAsync(string token, string why)
    {
        using var http = federation.Backend("usa", token);
        var (status, body) = await GetAsync(http, "/api/auth/whoami");
        Assert.True(status == HttpStatusCode.Unauthorized, $"{why}: {(int)status} {body}");
        Assert.Equal("Unauthorized", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_well_formed_control_token_is_accepted()
    {
        using var http = federation.Backend("usa", Sign(Claims("control-user")));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/api/auth/whoami")).Status);
    }

    /// <summary>
    /// The backend's own claims (dive.realm, dive.hub-realm, dive.user) written by a spoke realm in another case: a
    /// plain ClaimsIdentity finds them for the real names, so the stamp must remove them on every request, the first
    /// (the token handler's exact-case identity) and the later ones (the validated-token cache's copies) alike.
    /// </summary>
    [Fact]
    public async Task A_spoke_token_cannot_assert_the_backends_own_claims_in_another_case_on_any_request()
    {
        var claims = Claims("mallory-" + Guid.NewGuid().ToString("N")[..8]);
        claims["iss"] = Federation.Issuer(NatoCatalog.Get("ROU"));
        claims["countryOfAffiliation"] = "ROU";
        claims["DIVE.realm"] = "USA";
        claims["DIVE.hub-realm"] = "true";
        claims["Dive.User"] = "victim";
        claims["roles"] = new[] { "dive-admin" };
        var token = Sign(claims);
        for (var request = 1; request <= 3; request++)
        {
            using var http = federation.Backend("usa", token);
            var (status, body) = await GetAsync(http, "/api/auth/whoami");
            Assert.True(status == HttpStatusCode.OK, $"request {request}: {(int)status} {body}");
            Assert.Equal("ROU", body.GetProperty("realm").GetString());
            // A ROU admin is not the federation's: blacklisting another user's token needs the hub realm's admin.
            var someoneElses = $$"""{"jti":"{{Guid.NewGuid()}}","reason":"case attack","exp":{{DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds()}}}""";
            var (blacklist, answer) = await PostAsync(http, "/api/auth/blacklist-token", someoneElses);
            Assert.True(blacklist == HttpStatusCode.Forbidden, $"request {request}: blacklisting another user's token answered {(int)blacklist} {answer}");
        }
        // Its user key is its realm's, not the one it wrote: revoking ROU's mallory refuses the token on every request.
        using (var hubAdmin = federation.Backend("usa", federation.MintAdmin()))
        {
            var (revoked, answer) = await PostAsync(hubAdmin, "/api/auth/revoke", $$"""{"uniqueID":"{{claims["uniqueID"]}}","realm":"ROU"}""");
            Assert.True(revoked == HttpStatusCode.OK, $"revoking ROU's user answered {(int)revoked} {answer}");
        }
        for (var request = 4; request <= 6; request++)
        {
            await AssertRefusedAsync(token, $"request {request}, after the user was revoked");
        }
    }

    /// <summary>A spoke realm may assert only its own nation: also when it writes countryOfAffiliation in another case.</summary>
    [Fact]
    public async Task A_spoke_token_asserting_a_foreign_country_in_another_case_is_refused_on_every_request()
    {
        var claims = Claims("mallory-" + Guid.NewGuid().ToString("N")[..8]);
        claims["iss"] = Federation.Issuer(NatoCatalog.Get("ROU"));
        claims.Remove("countryOfAffiliation");
        claims["COUNTRYOFAFFILIATION"] = "USA";
        var token = Sign(claims);
        for (var request = 1; request <= 3; request++)
        {
            await AssertRefusedAsync(token, $"request {request}");
        }
    }

    [Fact]
    public async Task An_unsigned_alg_none_token_is_refused()
    {
        var claims = Claims("none-user");
        var payload = System.Text.Json.JsonSerializer.Serialize(claims);
        await AssertRefusedAsync($"{Base64Url("""{"alg":"none","typ":"JWT"}""")}.{Base64Url(payload)}.", "alg none");
    }

    [Theory]
    [InlineData("jti")]
    [InlineData("exp")]
    [InlineData("iss")]
    [InlineData("aud")]
    public async Task A_token_without_a_required_claim_is_refused(string claim)
    {
        var claims = Claims($"no-{claim}-user");
        claims.Remove(claim);
        await AssertRefusedAsync(Sign(claims), $"no {claim}");
    }

    [Fact]
    public async Task A_dev_key_token_signed_with_another_HMAC_algorithm_is_refused()
    {
        var token = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = Claims("hs512-user"),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(federation.Secrets.DevSigningKey)), SecurityAlgorithms.HmacSha512),
        });
        await AssertRefusedAsync(token, "HS512");
    }

    [Theory]
    [InlineData(20 * 1024)]
    [InlineData(64 * 1024)]
    public async Task An_oversized_token_is_refused_never_a_500(int size)
    {
        var claims = Claims("big-user");
        claims["padding"] = new string('A', size);
        using var http = federation.Backend("usa", Sign(claims));
        using var response = await http.GetAsync("/api/auth/whoami");
        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.RequestHeaderFieldsTooLarge,
            $"{size} bytes: {(int)response.StatusCode}");
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("Unauthorized", (await response.JsonAsync()).GetProperty("error").GetString());
        }
    }
}
