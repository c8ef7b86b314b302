using System.Text;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Instance;
using DiveAspire.Topology;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Backend.OAuth;

/// <summary>Access tokens for exchanged codes, shaped like a DIVE Keycloak token and signed with the development key.</summary>
public sealed class AccessTokenIssuer(IConfiguration config, InstanceInfo instance, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    public bool CanIssue => !string.IsNullOrEmpty(config["Dive:Auth:DevSigningKey"]);

    /// <summary>When a token minted now from <paramref name="code"/> ends: 15 min, but never after the authorizing token.</summary>
    public DateTimeOffset ExpiryFor(AuthorizationCode code)
    {
        var full = clock.GetUtcNow().Add(Lifetime);
        return code.SessionExpiresAt is { } session && session < full ? session : full;
    }

    public string Issue(AuthorizationCode code, DateTimeOffset expiresAt)
    {
        var now = clock.GetUtcNow();
        var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(config["Dive:Auth:DevSigningKey"]!));
        // The token stays in the user's own realm (never this instance's): identity is (realm, subject).
        var (realm, subject) = DiveClaims.ParseUserKey(code.UserId, instance.Hub);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = instance.IssuerOf(realm),
            Audience = Federation.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expiresAt.UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                ["jti"] = Guid.NewGuid().ToString(),
                ["sub"] = subject,
                ["uniqueID"] = subject,
                ["preferred_username"] = subject,
                ["clearance"] = code.Clearance,
                ["countryOfAffiliation"] = code.Country,
                ["acpCOI"] = code.Coi,
                ["azp"] = code.ClientId,
                ["scope"] = code.Scope,
            },
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
    }
}
