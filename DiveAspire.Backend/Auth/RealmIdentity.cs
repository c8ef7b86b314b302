using System.Security.Claims;
using DiveAspire.Backend.Instance;
using DiveAspire.Topology;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Backend.Auth;

/// <summary>A token the backend refuses after its signature and lifetime checked out (the message is the 401's).</summary>
public sealed class TokenRefusedException(string message) : SecurityTokenValidationException(message);

/// <summary>
/// Stamps the caller's realm on a validated principal: the instance whose issuer the token was validated against (or,
/// for a federation credential, the realm the calling backend attests). A spoke realm may only assert its own nation;
/// the hub realm, the federation's broker, may assert any.
/// </summary>
public sealed class RealmIdentity(InstanceInfo instance)
{
    private readonly Dictionary<string, string> _realmByIssuer = instance.Federation.ToDictionary(
        instance.IssuerOf, code => code, StringComparer.Ordinal);

    public string? RealmOfIssuer(string issuer) => _realmByIssuer.GetValueOrDefault(issuer);

    public bool IsMember(string realm) => instance.Federation.Contains(realm);

    /// <summary>Adds realm and user key to <paramref name="identity"/>; throws <see cref="TokenRefusedException"/> when the token oversteps its realm.</summary>
    public void Stamp(ClaimsIdentity identity, string realm)
    {
        // Claim types are compared ignoring case here, whatever the identity's own lookups do: a plain ClaimsIdentity finds
        // "DIVE.realm" for "dive.realm" and "COUNTRYOFAFFILIATION" for "countryOfAffiliation".
        foreach (var reserved in identity.Claims.Where(c => c.Type.StartsWith("dive.", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            identity.RemoveClaim(reserved);
        }
        var hubRealm = realm == instance.Hub;
        if (!hubRealm && identity.Claims.FirstOrDefault(c => string.Equals(c.Type, DiveClaims.Country, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(c.Value, realm, StringComparison.OrdinalIgnoreCase)) is { } foreign)
        {
            throw new TokenRefusedException($"A token of realm {realm} may only assert countryOfAffiliation {realm} (it asserts {foreign.Value})");
        }
        identity.AddClaim(new Claim(DiveClaims.RealmClaim, realm));
        identity.AddClaim(new Claim(DiveClaims.HubRealmClaim, hubRealm ? "true" : "false"));
        if (new ClaimsPrincipal(identity).SubjectId() is { Length: > 0 } subject)
        {
            identity.AddClaim(new Claim(DiveClaims.UserKeyClaim, DiveClaims.UserKey(realm, hubRealm, subject)));
        }
    }
}
