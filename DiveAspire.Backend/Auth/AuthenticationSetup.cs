using System.Text;
using DiveAspire.Backend.Instance;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Backend.Auth;

/// <summary>
/// JWT bearer authentication that trusts every issuer of the federation (hub and enabled spokes), so a token from
/// the hub works on a spoke. Every failure is a 401 with a JSON body, never a 500.
/// </summary>
public static class AuthenticationSetup
{
    /// <summary>Policy for operator endpoints: `.RequireAuthorization(AuthenticationSetup.AdminPolicy)`.</summary>
    public const string AdminPolicy = "dive-admin";

    public static IServiceCollection AddDiveAuthentication(this IServiceCollection services, IConfiguration config, InstanceInfo instance)
    {
        var devKey = config["Dive:Auth:DevSigningKey"];
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(options =>
            {
                options.MapInboundClaims = false;
                options.RequireHttpsMetadata = false;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuers = instance.Issuers,
                    ValidAudience = DiveAspire.Topology.Federation.Audience,
                    ValidateLifetime = true,
                    ClockSkew = TimeSpan.FromSeconds(5),
                    RequireExpirationTime = true,
                    NameClaimType = DiveClaims.PreferredUsername,
                };
                // Container runtime: the instance's Keycloak realm (the AppHost sets these only there).
                if (config["Dive:Auth:Authority"] is { Length: > 0 } authority)
                {
                    options.Authority = authority;
                }
                if (config["Dive:Auth:MetadataAddress"] is { Length: > 0 } metadata)
                {
                    options.MetadataAddress = metadata;
                }
                if (!string.IsNullOrEmpty(devKey))
                {
                    options.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(devKey));
                }
                options.Events = new JwtBearerEvents
                {
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        var message = context.AuthenticateFailure switch
                        {
                            SecurityTokenExpiredException => "Token has expired",
                            SecurityTokenInvalidIssuerException => "Token issuer is not trusted by this federation",
                            SecurityTokenInvalidAudienceException => "Token audience is not valid",
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

    public static Task WriteUnauthorizedAsync(HttpResponse response, string message)
    {
        response.StatusCode = StatusCodes.Status401Unauthorized;
        return response.WriteAsJsonAsync(new { error = "Unauthorized", message });
    }
}
