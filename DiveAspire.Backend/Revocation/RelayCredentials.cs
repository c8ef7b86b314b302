using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.FederatedSearch;
using DiveAspire.Backend.Instance;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// Which backend relayed a revocation to the hub (<see cref="RevocationRelay"/>): the header <c>Dive-Relay</c>, a JWT the
/// relaying backend signs with the federation key (as <see cref="FederationCredentials"/>: HS256, issuer that backend,
/// audience the hub's backend, 60 s), scope <c>revocation-relay</c>, bound to the caller's token (<c>ath</c>: its SHA-256,
/// as in RFC 9449) and to the endpoint (<c>htu</c>). It grants nothing: the hub authorizes the caller's own token exactly
/// as for a local caller. The federation key is shared by every backend and known to every nation's operator, so the
/// credential proves that a holder of that key relayed, not which backend: <c>revokedByInstance</c> is what the relaying
/// backend says it is. A credential that does not verify only loses its label (the hub records itself; review R8).
/// </summary>
public sealed class RelayCredentials(IConfiguration config, InstanceInfo instance, TimeProvider clock)
{
    public const string Header = "Dive-Relay";
    public const string Scope = "revocation-relay";
    private const string TokenHashClaim = "ath";
    private const string PathClaim = "htu";
    private const string RelayedByItem = "dive.relayedBy";
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private readonly SymmetricSecurityKey? _key = FederationCredentials.KeyFrom(config);

    /// <summary>The credential for relaying the caller's <paramref name="bearerToken"/> to <paramref name="path"/> on the hub; null without a federation key.</summary>
    public string? Issue(string bearerToken, string path)
    {
        if (_key is null)
        {
            return null;
        }
        var now = clock.GetUtcNow();
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = FederationCredentials.Name(instance.Code),
            Audience = FederationCredentials.Name(instance.Hub),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.Add(Lifetime).UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                [DiveClaims.TokenId] = Guid.NewGuid().ToString(),
                [FederationCredentials.ScopeClaim] = Scope,
                [TokenHashClaim] = Hash(bearerToken),
                [PathClaim] = path,
            },
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>
    /// The hub's side, for a request carrying <see cref="Header"/>: the relaying instance's code, or why the credential
    /// is refused (bad signature, another audience, expired, another scope, another token or endpoint, unknown backend).
    /// </summary>
    public async Task<(string? Instance, string? Problem)> ValidateAsync(HttpRequest request)
    {
        var credential = request.Headers[Header].ToString();
        var bearer = BearerOf(request);
        if (credential.Length == 0 || credential.Length > 4096 || bearer is null)
        {
            return (null, "a relay credential needs the caller's bearer token");
        }
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(credential, FederationCredentials.ValidationFor(instance, _key));
        if (!result.IsValid || result.SecurityToken is not JsonWebToken token)
        {
            return (null, "not signed with the federation key by another backend of this federation for this one, or expired");
        }
        if (!token.TryGetPayloadValue<string>(FederationCredentials.ScopeClaim, out var scope) || scope != Scope || token.ValidTo - token.ValidFrom > Lifetime)
        {
            return (null, "not a revocation relay credential");
        }
        if (!token.TryGetPayloadValue<string>(TokenHashClaim, out var hash) || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(hash), Encoding.ASCII.GetBytes(Hash(bearer))))
        {
            return (null, "issued for another token");
        }
        if (!token.TryGetPayloadValue<string>(PathClaim, out var path) || !string.Equals(path, request.Path.Value, StringComparison.OrdinalIgnoreCase))
        {
            return (null, "issued for another endpoint");
        }
        return (token.Issuer[(FederationCredentials.Name("").Length)..], null);
    }

    /// <summary>
    /// A backend relays the tokens of its own realm, and a hub-realm token used at any spoke (review R4): a spoke's
    /// operator cannot record another spoke as the relay of its own realm's revocations.
    /// </summary>
    public static bool MayRelay(string relayedBy, ClaimsPrincipal caller) =>
        caller.IsHubRealm() || string.Equals(caller.Realm(), relayedBy, StringComparison.OrdinalIgnoreCase);

    /// <summary>The relaying instance the hub recorded for this request (set once its credential was accepted), else null.</summary>
    public static string? RelayedBy(HttpContext http) => http.Items[RelayedByItem] as string;

    public static void Accept(HttpContext http, string relayedBy) => http.Items[RelayedByItem] = relayedBy;

    /// <summary>The caller's bearer token as sent (the relay forwards exactly this).</summary>
    public static string? BearerOf(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7 ? authorization[7..].Trim() : null;
    }

    private static string Hash(string token) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
