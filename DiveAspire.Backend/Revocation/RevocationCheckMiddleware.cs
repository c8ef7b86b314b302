using System.Diagnostics;
using System.Security.Claims;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Metrics;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// Runs after authentication on every request that carries a valid token: rejects a revoked jti or a revoked user
/// from the local cache (no Redis round trip). When the cache is not synchronised with the store, a token it knows
/// nothing about is served (failure mode open) or refused with 503 (closed).
/// </summary>
public sealed class RevocationCheckMiddleware(RequestDelegate next, RevocationCache cache, RevocationSubscriber sync, RevocationOptions options)
{
    public const string TokenRevoked = "Token has been revoked";
    public const string UserTerminated = "User session has been terminated";

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.User.Identity?.IsAuthenticated == true)
        {
            var started = Stopwatch.GetTimestamp();
            var refusal = Refusal(cache, context.User);
            DiveMetrics.RevocationCheckDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);

            if (refusal is not null)
            {
                await AuthenticationSetup.WriteUnauthorizedAsync(context.Response, refusal);
                return;
            }
            if (options.FailureMode == RevocationFailureMode.Closed && !sync.Synchronised)
            {
                context.Response.Headers.RetryAfter = "5";
                await RevocationResults.Unavailable("Token revocation status cannot be verified: the shared revocation store is unreachable")
                    .ExecuteAsync(context);
                return;
            }
        }
        await next(context);
    }

    /// <summary>The whole per-request check, no I/O: why this principal is refused (revoked token or user), else null.</summary>
    public static string? Refusal(RevocationCache cache, ClaimsPrincipal user)
    {
        if (user.Jti() is { } jti && cache.IsTokenRevoked(jti))
        {
            return TokenRevoked;
        }
        return user.UserId() is { } userId && cache.IsUserRevoked(userId) ? UserTerminated : null;
    }
}
