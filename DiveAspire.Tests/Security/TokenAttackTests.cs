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
