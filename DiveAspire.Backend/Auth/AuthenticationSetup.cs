using System.Text;
using DiveAspire.Backend.FederatedSearch;
using DiveAspire.Backend.Instance;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Backend.Auth;

/// <summary>
/// JWT bearer authentication that trusts every issuer of the federation (hub and enabled spokes), so a token from
/// the hub works on a spoke: each token is checked with its own realm's keys (<see cref="FederationSigningKeys"/>, RS256
/// only) or, in process runtime, the development key (HS256 only). A token needs iss, aud, exp and jti. The realm of the
/// caller is the instance whose issuer validated the token (<see cref="RealmIdentity"/>). Federation credentials
/// (<see cref="FederationCredentials"/>) go to their own scheme and count on the local-search endpoint only.
/// Every failure is a 401 with a JSON body, never a 500.
/// </summary>
public static class AuthenticationSetup
{
    /// <summary>Policy for this backend's operator endpoints: the dive-admin of this instance's realm or of the hub realm.</summary>
    public const string AdminPolicy = "dive-admin";

    /// <summary>Policy for actions on the whole federation (other instances, other realms' users): the hub realm's dive-admin.</summary>
    public const string FederationAdminPolicy = "dive-federation-admin";

    private const string SelectorScheme = "Dive";
    private const string RealmKeysUnavailable = "dive.realm-keys-unavailable";

    public static IServiceCollection AddDiveAuthentication(this IServiceCollection services, IConfiguration config, InstanceInfo instance)
    {
        var devKey = DevSigningKey(config, instance);
        var realm = new RealmIdentity(instance);
        services.AddSingleton(realm);
        services.AddSingleton<FederationSigningKeys>();
        services.AddSingleton<FederationCredentials>();
        services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "DIVE realm token or federation credential", options =>
                options.ForwardDefaultSelector = context => FederationCredentials.Of(context.Request) is not null
                    ? FederationCredentials.Scheme
                    : JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(options =>
            {
                LimitTokenSize(options);
                // Nothing reads the token back from the authentication properties (GetTokenAsync): storing it cost a
                // dictionary and formatted dates per request.
                options.SaveToken = false;
                if (!string.Equals(config["Dive:Auth:PrincipalCache"], "off", StringComparison.OrdinalIgnoreCase))
                {
                    var handlers = options.TokenHandlers.ToList();
                    options.TokenHandlers.Clear();
                    handlers.ForEach(h => options.TokenHandlers.Add(new ValidatedTokenCache(h, TimeProvider.System)));
                }
            })
            .AddJwtBearer(FederationCredentials.Scheme, options => FederationCredentials.ConfigureScheme(options, instance, realm, config));
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<FederationSigningKeys>((options, realms) =>
            {
                options.MapInboundClaims = false;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuers = instance.Issuers,
                    ValidAudience = DiveAspire.Topology.Federation.Audience,
                    ValidateLifetime = true,
                    ClockSkew = TimeSpan.FromSeconds(5),
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    RequireAudience = true,
                    ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.HmacSha256],
                    // HS256 only with the development key (a symmetric key); RS256 only with a realm's (asymmetric) keys.
                    AlgorithmValidator = (algorithm, key, _, _) => key is SymmetricSecurityKey
                        ? devKey is not null && algorithm == SecurityAlgorithms.HmacSha256
                        : algorithm == SecurityAlgorithms.RsaSha256,
                    NameClaimType = DiveClaims.PreferredUsername,
                    // The keys of the token's own realm (loaded by OnMessageReceived), and the dev key in process runtime.
                    IssuerSigningKeyResolver = (_, token, kid, _) =>
                        devKey is null ? realms.For(token.Issuer, kid) : [.. realms.For(token.Issuer, kid), devKey],
                };
                options.Events = new JwtBearerEvents
                {
                    OnMessageReceived = async context =>
                    {
                        // Read once: the handler takes it from here instead of reading the header again.
                        context.Token = BearerToken(context.Request);
                        // A token the cache remembers is not verified again: its realm's keys are not needed.
                        if (context.Token is { Length: > 0 } token && ValidatedTokenCache.AnyRemembers(context.Options.TokenHandlers, token))
                        {
                            return;
                        }
                        if (!await realms.LoadAsync(context.Token, context.HttpContext.RequestAborted))
                        {
                            context.HttpContext.Items[RealmKeysUnavailable] = true;
                        }
                    },
                    OnTokenValidated = context => context.Principal!.Identity is ValidatedTokenCache.StampedIdentity ? Task.CompletedTask : Refused(context, () =>
                    {
                        if (string.IsNullOrEmpty(context.Principal!.Jti()))
                        {
                            throw new TokenRefusedException("Token has no jti");
                        }
                        // The issuer was validated against the federation's realms: the realm is the instance it names.
                        var issuer = context.SecurityToken.Issuer;
                        var identity = (System.Security.Claims.ClaimsIdentity)context.Principal!.Identity!;
                        realm.Stamp(identity, realm.RealmOfIssuer(issuer) ?? throw new TokenRefusedException("Token issuer is not trusted by this federation"));
                        // The next requests with this token share the stamped identity (it passed every check above).
                        foreach (var cache in context.Options.TokenHandlers.OfType<ValidatedTokenCache>())
                        {
                            cache.RememberStamped(context.SecurityToken, identity);
                        }
                    }),
                    OnChallenge = Challenge,
                    OnForbidden = Forbidden,
                };
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireAuthenticatedUser().RequireAssertion(context => context.User.IsAdminOf(instance.Code)))
            .AddPolicy(FederationAdminPolicy, policy => policy.RequireAuthenticatedUser().RequireAssertion(context => context.User.IsFederationAdmin()))
            .AddPolicy(FederationCredentials.Policy, policy => policy.AddAuthenticationSchemes(FederationCredentials.Scheme).RequireAuthenticatedUser()
                .RequireClaim(FederationCredentials.ScopeClaim, FederationCredentials.Scope));
        return services;
    }

    /// <summary>
    /// The development key (process runtime only). A backend of the container runtime refuses to start with one: there
    /// every token must come from a realm, and a key shared by all backends could sign for any of them.
    /// </summary>
    private static SymmetricSecurityKey? DevSigningKey(IConfiguration config, InstanceInfo instance)
    {
        if (config["Dive:Auth:DevSigningKey"] is not { Length: > 0 } key)
        {
            return null;
        }
        if (!string.Equals(instance.Runtime, "process", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Dive:Auth:DevSigningKey is set but this backend runs in the {instance.Runtime} runtime: the development signing key is accepted in the process runtime only. Remove it.");
        }
        return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key));
    }

    /// <summary>The key <c>UseAuthentication</c> sets in the builder's properties (ASP.NET Core's AuthAppBuilderExtensions).</summary>
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    /// <summary>
    /// Tells WebApplication that authentication is in the pipeline already: it adds its own <c>UseAuthentication</c> in
    /// front of everything when the root builder has none, and one inside a <c>UseWhen</c> branch does not count, so each
    /// request was authenticated twice (and operational endpoints, which are meant never to look at a token, once).
    /// </summary>
    public static IApplicationBuilder MarkAuthenticationInBranch(this IApplicationBuilder app)
    {
        app.Properties[AuthenticationMiddlewareSetKey] = true;
        return app;
    }

    /// <summary>Largest token read (bytes): Keycloak's are a few KB; bigger ones are refused before any parsing.</summary>
    public const int MaxTokenBytes = 16 * 1024;

    internal static void LimitTokenSize(JwtBearerOptions options)
    {
        foreach (var handler in options.TokenHandlers.OfType<Microsoft.IdentityModel.Tokens.TokenHandler>())
        {
            handler.MaximumTokenSizeInBytes = MaxTokenBytes;
        }
    }

    internal static Task Refused(TokenValidatedContext context, Action check)
    {
        try
        {
            check();
        }
        catch (TokenRefusedException refused)
        {
            context.Fail(refused);
        }
        return Task.CompletedTask;
    }

    internal static async Task Challenge(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var message = context.AuthenticateFailure switch
        {
            TokenRefusedException refused => refused.Message,
            SecurityTokenExpiredException => "Token has expired",
            SecurityTokenInvalidIssuerException => "Token issuer is not trusted by this federation",
            SecurityTokenInvalidAudienceException => "Token audience is not valid",
            SecurityTokenInvalidAlgorithmException => "Token signature algorithm is not accepted",
            SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException
                when context.HttpContext.Items.ContainsKey(RealmKeysUnavailable) =>
                "Token signature cannot be verified: the signing keys of its realm are unavailable",
            SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "Token signature is invalid",
            not null => "Token is invalid",
            null when context.Request.Headers.Authorization.Count == 0 => "No token provided",
            null => "Token is invalid",
        };
        await WriteUnauthorizedAsync(context.Response, message);
    }

    internal static Task Forbidden(ForbiddenContext context) => context.Response.WriteAsJsonAsync(new ErrorBody(
        "Forbidden",
        "This endpoint requires the dive-admin role of this instance's realm or of the hub realm (federation-wide actions: the hub realm's)"),
        WireJson.Default.ErrorBody);

    private static string? BearerToken(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }

    public static Task WriteUnauthorizedAsync(HttpResponse response, string message)
    {
        response.StatusCode = StatusCodes.Status401Unauthorized;
        return response.WriteAsJsonAsync(new ErrorBody("Unauthorized", message), WireJson.Default.ErrorBody);
    }
}
