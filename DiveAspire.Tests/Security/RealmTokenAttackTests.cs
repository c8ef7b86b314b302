using System.Net;
using System.Text;
using System.Text.Json;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Security;

/// <summary>Algorithm confusion against a realm's RS256 keys (the realms of an OIDC stand-in, as Keycloak in container runtime).</summary>
[Collection(RealmFederationCollection.Name)]
[Trait("Category", "Security")]
public sealed class RealmTokenAttackTests(RealmFederationFixture federation)
{
    [Fact]
    public async Task An_HS256_token_signed_with_a_realms_public_key_is_refused()
    {
        // What an attacker can fetch: the realm's published JWKS.
        using var fetch = new HttpClient();
        var metadata = JsonDocument.Parse(await fetch.GetStringAsync(federation.Realms.MetadataAddress("usa"))).RootElement;
        var jwksText = await fetch.GetStringAsync(metadata.GetProperty("jwks_uri").GetString());
        var jwk = JsonDocument.Parse(jwksText).RootElement.GetProperty("keys")[0];
        var now = DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Federation.Issuer(NatoCatalog.Hub), ["aud"] = Federation.Audience, ["sub"] = "confused", ["uniqueID"] = "confused",
            ["clearance"] = "TOP_SECRET", ["countryOfAffiliation"] = "USA", ["jti"] = Guid.NewGuid().ToString(),
            ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = now.AddMinutes(5).ToUnixTimeSeconds(), ["roles"] = new[] { "dive-admin" },
        };
        foreach (var secret in new[] { jwk.GetRawText(), jwk.GetProperty("n").GetString()!, jwksText })
        {
            var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret.PadRight(64))) { KeyId = jwk.GetProperty("kid").GetString() };
            var token = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
            {
                Claims = claims,
                SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
            });
            using var http = federation.Backend("usa", token);
            var (status, body) = await GetAsync(http, "/api/auth/whoami");
            Assert.True(status == HttpStatusCode.Unauthorized, $"{(int)status} {body}");
        }
    }
}
