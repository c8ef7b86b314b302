using System.Text;
using DiveAspire.Backend.Instance;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Backend.Auth;

/// <summary>
/// JWT bearer authentication that trusts every issuer of the federation (hub and enabled spokes), so a token from
/// the hub works on a spoke: each token is checked with its own realm's keys (<see cref="FederationSigningKeys"/>)
/// or, in process runtime, the development key. Every failure is a 401 with a JSON body, never a 500.
/// </summary>
public static class AuthenticationSetup
{
    /// <summary>Policy for operator endpoints: `.RequireAuthorization(AuthenticationSetup.AdminPolicy)`.</summary>
    public const string AdminPolicy = "dive-admin";

    private const string RealmKeysUnavailable = "dive.realm-keys-unavailable";

    public static IServiceCollection AddDiveAuthentication(this IServiceCollection services, IConfiguration config, InstanceInfo instance)
    {
        var devKey = config["Dive:Auth:DevSigningKey"] is { Length: > 0 } key ? new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)) : null;
        services.AddSingleton<FederationSigningKeys>();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
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
                    NameClaimType = DiveClaims.PreferredUsername,
                    // The keys of the token's own realm (loaded by OnMessageReceived), and the dev key in process runtime.
                    IssuerSigningKeyResolver = (_, token, kid, _) =>
                        devKey is null ? realms.For(token.Issuer, kid) : [.. realms.For(token.Issuer, kid), devKey],
                };
                options.Events = new JwtBearerEvents
                {
                    OnMessageReceived = async context =>
                    {
                        if (!await realms.LoadAsync(BearerToken(context.Request), context.HttpContext.RequestAborted))
                        {
                            context.HttpContext.Items[RealmKeysUnavailable] = true;
                        }
                    },
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        var message = context.AuthenticateFailure switch
                        {
                            SecurityTokenExpiredException => "Token has expired",
                            SecurityTokenInvalidIssuerException => "Token issuer is not trusted by this federation",
                            SecurityTokenInvalidAudienceException => "Token audience is not valid",
                            SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException
                                when context.HttpContext.Items.ContainsKey(RealmKeysUnavailable) =>
                                "Token signature cannot be verified: the signing keys of its realm are unavailable",
                            SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "Token signature is invalid",
                            not null => "Token is invalid",
                            null when context.Request.Headers.Authorization.Count == 0 => "No token provided",
                            null => "Token is invalid",
                        };
                        await WriteUnauthorizedAsync(context.Response, message);
                    },
                    OnForbidden = context => context.Response.WriteAsJsonAsync(new { error = "Forbidden", message = "This endpoint requires the dive-admin role" }),
                };
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireClaim(DiveClaims.Roles, DiveClaims.AdminRole));
        return services;
    }

    private static string? BearerToken(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }

    public static Task WriteUnauthorizedAsync(HttpResponse response, string message)
    {
        response.StatusCode = StatusCodes.Status401Unauthorized;
        return response.WriteAsJsonAsync(new { error = "Unauthorized", message });
    }
}
