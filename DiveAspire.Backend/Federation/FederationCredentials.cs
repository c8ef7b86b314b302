using System.Security.Claims;
using System.Text;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Instance;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Backend.FederatedSearch;

/// <summary>
/// What a backend sends a peer instead of the caller's token: a credential it signs itself with the federation key
/// (<c>Dive:FederationKey</c>, the AppHost's secret parameter <c>dive-federation-key</c>), HS256, issuer this backend,
/// audience that one peer, 60 s, scope federated-search, carrying only the caller's realm, subject and ACP-240
/// attributes. The peer accepts it on its local-search endpoint only, so it is worth nothing anywhere else.
/// </summary>
public sealed class FederationCredentials(IConfiguration config, InstanceInfo instance, TimeProvider clock)
{
    public const string Scheme = "DiveFederation";
    public const string Policy = "dive-federated-search";
    public const string ScopeClaim = "scope";
    public const string Scope = "federated-search";
    public const string LocalSearchPath = "/api/federation/local-search";
    public const string RealmClaim = "realm";
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private readonly SymmetricSecurityKey? _key = KeyFrom(config);

    /// <summary>A backend's issuer and audience name in federation credentials (never a realm's issuer).</summary>
    public static string Name(string instanceCode) => $"urn:dive:backend:{instanceCode.ToUpperInvariant()}";

    /// <summary>Peers send the credential as <c>Authorization: DiveFederation &lt;jwt&gt;</c>, never as a bearer token.</summary>
    public const string AuthorizationScheme = "DiveFederation";

    /// <summary>The credential of a request, if it carries one (no parsing: this runs on every request).</summary>
    public static string? Of(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith(AuthorizationScheme + " ", StringComparison.Ordinal) ? authorization[(AuthorizationScheme.Length + 1)..].Trim() : null;
    }

    public static SymmetricSecurityKey? KeyFrom(IConfiguration config) =>
        config["Dive:FederationKey"] is { Length: >= 32 } key ? new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)) : null;

    /// <summary>The credential for one peer, or null when this backend has no federation key (the peer then refuses the call).</summary>
    public string? Issue(ClaimsPrincipal caller, string peerCode)
    {
        if (_key is null || caller.Realm() is not { } realm || caller.SubjectId() is not { } subject)
        {
            return null;
        }
        var now = clock.GetUtcNow();
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Name(instance.Code),
            Audience = Name(peerCode),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.Add(Lifetime).UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                [DiveClaims.TokenId] = Guid.NewGuid().ToString(),
                [ScopeClaim] = Scope,
                [RealmClaim] = realm,
                [DiveClaims.UniqueId] = subject,
                [DiveClaims.ClearanceClaim] = caller.Clearance(),
                [DiveClaims.Country] = caller.CountryOfAffiliation() ?? "",
                [DiveClaims.Coi] = caller.Cois().ToArray(),
            },
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>
    /// The peer's side: its own bearer scheme reading <c>Authorization: DiveFederation</c>, valid on the local search only,
    /// for a search scope, at most <see cref="Lifetime"/>, for a realm of the federation (whose country rule applies).
    /// </summary>
    public static void ConfigureScheme(JwtBearerOptions options, InstanceInfo instance, RealmIdentity realm, IConfiguration config)
    {
        options.MapInboundClaims = false;
        AuthenticationSetup.LimitTokenSize(options);
        options.TokenValidationParameters = ValidationFor(instance, KeyFrom(config));
        options.Events = new JwtBearerEvents
        {
            OnMessageReceived = context =>
            {
                context.Token = Of(context.Request);
                return Task.CompletedTask;
            },
            OnTokenValidated = context => AuthenticationSetup.Refused(context, () =>
            {
                if (!context.Request.Path.Equals(LocalSearchPath, StringComparison.OrdinalIgnoreCase))
                {
                    throw new TokenRefusedException("A federation credential is accepted on the federated local search only");
                }
                var principal = context.Principal!;
                if (principal.FindFirst(ScopeClaim)?.Value != Scope || principal.Jti() is null
                    || context.SecurityToken.ValidTo - context.SecurityToken.ValidFrom > Lifetime)
                {
                    throw new TokenRefusedException("Federation credential is not a search credential");
                }
                var attested = principal.FindFirst(RealmClaim)?.Value;
                if (attested is null || !realm.IsMember(attested))
                {
                    throw new TokenRefusedException("Federation credential names no realm of this federation");
                }
                realm.Stamp((ClaimsIdentity)principal.Identity!, attested);
            }),
            OnChallenge = AuthenticationSetup.Challenge,
            OnForbidden = AuthenticationSetup.Forbidden,
        };
    }

    /// <summary>How a peer checks a credential: the federation key, HS256 only, from another instance, for this one.</summary>
    public static TokenValidationParameters ValidationFor(InstanceInfo instance, SymmetricSecurityKey? key) => new()
    {
        ValidIssuers = instance.Federation.Where(code => code != instance.Code).Select(Name).ToList(),
        ValidAudience = Name(instance.Code),
        IssuerSigningKeys = key is null ? [] : [key], // no key configured: every credential is refused
        RequireSignedTokens = true,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ValidateLifetime = true,
        RequireExpirationTime = true,
        ClockSkew = TimeSpan.FromSeconds(5),
    };
}
