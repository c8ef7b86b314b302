using DiveAspire.Backend.Auth;
using DiveAspire.Backend.RateLimiting;
using DiveAspire.Backend.Redis;
using StackExchange.Redis;

namespace DiveAspire.Backend.OAuth;

/// <summary>
/// Authorization-code grant: the signed-in user authorizes a client (POST /api/oauth/authorize, JSON) and the client
/// exchanges the code (POST /api/oauth/token, form-encoded as in RFC 6749) with its PKCE S256 verifier (required). A
/// minted token never outlives the token that authorized its code. Failed exchanges count against the auth limiter.
/// </summary>
public static class OAuthEndpoints
{
    public static IServiceCollection AddOAuthCodes(this IServiceCollection services) =>
        services.AddSingleton<AuthorizationCodeStore>().AddSingleton<AccessTokenIssuer>()
            .AddSingleton(sp => RedirectUriPolicy.From(sp.GetRequiredService<IConfiguration>()));

    public static IEndpointRouteBuilder MapOAuth(this IEndpointRouteBuilder app)
    {
        // The body is required: no body, an empty one or `null` is a 400 from the framework (see Errors/JsonErrors).
        app.MapPost("/api/oauth/authorize", async (AuthorizeRequest body, HttpContext http, AuthorizationCodeStore codes, RedirectUriPolicy redirects, TimeProvider clock) =>
        {
            if ((body.Validate() ?? redirects.Problem(body.RedirectUri)) is { } problem)
            {
                return Error("invalid_request", problem);
            }
            var user = http.User;
            try
            {
                var code = await codes.IssueAsync(new AuthorizationCode(
                    body.ClientId!, body.RedirectUri!, body.Scope ?? "openid", body.CodeChallenge ?? "",
                    user.UserId()!, user.Clearance(), user.CountryOfAffiliation() ?? "", user.Cois(), clock.GetUtcNow(), user.ExpiresAt()));
                return Wire.Json(new AuthorizeResponse(code, (int)AuthorizationCodeStore.CodeTtl.TotalSeconds, body.RedirectUri!));
            }
            catch (Exception ex) when (RedisFailures.Is(ex))
            {
                return Unavailable();
            }
        }).RequireAuthorization().RequireRateLimiting(RateLimitPolicies.Api);

        app.MapPost("/api/oauth/token", async (HttpContext http, AuthorizationCodeStore codes, AccessTokenIssuer issuer, TimeProvider clock) =>
        {
            if (!http.Request.HasFormContentType)
            {
                return Error("invalid_request", "send the token request as application/x-www-form-urlencoded");
            }
            var form = await http.Request.ReadFormAsync();
            if (form["grant_type"] != "authorization_code")
            {
                return Error("unsupported_grant_type", "grant_type must be authorization_code");
            }
            string? code = form["code"], clientId = form["client_id"], redirectUri = form["redirect_uri"], verifier = form["code_verifier"];
            if (string.IsNullOrEmpty(code) || string.IsNullOrEmpty(clientId) || string.IsNullOrEmpty(redirectUri))
            {
                return Error("invalid_request", "code, client_id and redirect_uri are required");
            }
            try
            {
                var (outcome, granted) = await codes.ConsumeAsync(code, clientId, redirectUri, string.IsNullOrEmpty(verifier) ? null : verifier);
                if (outcome != ConsumeOutcome.Ok)
                {
                    return Error("invalid_grant", outcome switch
                    {
                        ConsumeOutcome.AlreadyUsed => "Authorization code has already been used",
                        ConsumeOutcome.WrongClient => "Authorization code was issued to another client",
                        ConsumeOutcome.RedirectMismatch => "redirect_uri does not match the authorization request",
                        ConsumeOutcome.PkceFailed when string.IsNullOrEmpty(verifier) => "code_verifier is required (PKCE S256)",
                        ConsumeOutcome.PkceFailed => "code_verifier does not match the code challenge",
                        _ => "Authorization code is invalid or expired",
                    });
                }
                if (!issuer.CanIssue)
                {
                    return Wire.Json(new OAuthErrorBody("server_error", "no token signing key is configured"), statusCode: 500);
                }
                // A chain of exchanges never extends the session: each token ends no later than the one that authorized its code.
                var expiresAt = issuer.ExpiryFor(granted!);
                var expiresIn = (int)Math.Floor((expiresAt - clock.GetUtcNow()).TotalSeconds);
                if (expiresIn <= 0)
                {
                    return Error("invalid_grant", "The session that authorized this code has ended");
                }
                return Wire.Json(new TokenResponse(issuer.Issue(granted!, expiresAt), "Bearer", expiresIn, granted!.Scope));
            }
            catch (Exception ex) when (RedisFailures.Is(ex))
            {
                return Unavailable();
            }
        }).RequireRateLimiting(RateLimitPolicies.Auth);
        return app;
    }

    private static IResult Error(string error, string description) =>
        Wire.Json(new OAuthErrorBody(error, description), statusCode: StatusCodes.Status400BadRequest);

    private static IResult Unavailable() =>
        Wire.Json(new OAuthErrorBody("temporarily_unavailable", "the instance's Redis did not answer"), statusCode: 503);
}

public sealed record AuthorizeRequest(string? ClientId, string? RedirectUri, string? Scope, string? CodeChallenge, string? CodeChallengeMethod)
{
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(ClientId) || ClientId.Length > 128 || Validation.SafeText.Problem(ClientId) is not null)
        {
            return "clientId is required (up to 128 printable characters)";
        }
        if (Scope is { Length: > 512 } || (Scope is not null && Validation.SafeText.Problem(Scope) is not null))
        {
            return "scope is up to 512 printable characters";
        }
        // PKCE S256 is required (RFC 9700): a request without it is a downgrade, refused.
        if (string.IsNullOrEmpty(CodeChallenge))
        {
            return "codeChallenge is required (PKCE S256)";
        }
        if (CodeChallengeMethod != "S256")
        {
            return "codeChallengeMethod must be S256 (plain is not accepted)";
        }
        if (CodeChallenge.Length != 43)
        {
            return "codeChallenge must be a base64url SHA-256 (43 characters)";
        }
        return null;
    }
}
