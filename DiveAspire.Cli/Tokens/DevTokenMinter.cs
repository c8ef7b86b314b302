using System.Security.Claims;
using System.Text;
using DiveAspire.Topology;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Cli.Tokens;

/// <summary>Signs development tokens with the AppHost's dev signing key, shaped like a DIVE Keycloak token.</summary>
public static class DevTokenMinter
{
    public static readonly string[] Clearances =
    [
        "UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET",
        "NATO_UNCLASSIFIED", "NATO_RESTRICTED", "NATO_CONFIDENTIAL", "NATO_SECRET", "COSMIC_TOP_SECRET",
    ];

    public sealed record Request(
        Country Instance,
        string User,
        string Clearance = "SECRET",
        TimeSpan? Ttl = null,
        string? Country = null,
        IReadOnlyList<string>? Coi = null,
        string? Jti = null,
        DateTimeOffset? Now = null,
        string? Issuer = null,
        IReadOnlyList<string>? Roles = null);

    public static string Mint(Request request, string signingKey)
    {
        if (string.IsNullOrEmpty(signingKey) || Encoding.UTF8.GetByteCount(signingKey) < 32)
        {
            throw new CliException("The development signing key is missing or shorter than 32 bytes.");
        }
        var now = request.Now ?? DateTimeOffset.UtcNow;
        var ttl = request.Ttl ?? TimeSpan.FromMinutes(15);
        var claims = new Dictionary<string, object>
        {
            ["sub"] = $"{request.User}-sub",
            ["uniqueID"] = request.User,
            ["preferred_username"] = request.User,
            ["clearance"] = request.Clearance,
            ["countryOfAffiliation"] = request.Country ?? request.Instance.Code,
            ["acpCOI"] = request.Coi ?? ["NATO"],
        };
        if (request.Roles is { Count: > 0 } roles)
        {
            claims["roles"] = roles;
        }
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = request.Issuer ?? Federation.Issuer(request.Instance),
            Audience = Federation.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.Add(ttl).UtcDateTime,
            Claims = claims,
            Subject = new ClaimsIdentity([new Claim("jti", request.Jti ?? Guid.NewGuid().ToString())]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }
}
