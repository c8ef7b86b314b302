using System.Diagnostics;
using System.Security.Claims;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Metrics;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// Runs after authentication on every request that carries a valid token: rejects a revoked jti or a revoked user
/// from the local cache (no Redis round trip), and a token that would outlive any revocation of it. A token the cache
/// knows nothing about is refused with 503 while the cache cannot vouch for it: before this process's first sync with
/// the store and while the cache is full (both failure modes), and while it is not synchronised in failure mode closed.
/// </summary>
public sealed class RevocationCheckMiddleware(RequestDelegate next, RevocationCache cache, RevocationSubscriber sync, RevocationOptions options, TimeProvider clock)
{
    public const string TokenRevoked = "Token has been revoked";
    public const string UserTerminated = "User session has been terminated";
    public const string LifetimeTooLong = "Token lifetime exceeds the federation's maximum token lifetime";
    public const string NeverSynchronised = "Token revocation status cannot be verified: this backend has not synchronised with the shared revocation store since it started";
    public const string CacheFull = "Token revocation status cannot be verified: this backend's revocation cache is full";
    public const string StoreUnreachable = "Token revocation status cannot be verified: the shared revocation store is unreachable";

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.User.Identity?.IsAuthenticated == true)
        {
            var started = Stopwatch.GetTimestamp();
            var refusal = Refusal(cache, context.User) ?? TooLong(context.User);
            DiveMetrics.RevocationCheckDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);

            if (refusal is not null)
            {
                await AuthenticationSetup.WriteUnauthorizedAsync(context.Response, refusal);
                return;
            }
            // Synchronised asks the multiplexer; only failure mode closed needs it, so open mode does not pay for it per request.
            var synchronised = options.FailureMode == RevocationFailureMode.Open || sync.Synchronised;
            if (Unverifiable(sync.EverSynchronised, cache.Overflowed, synchronised, options.FailureMode) is { } reason)
            {
                context.Response.Headers.RetryAfter = "5";
                await RevocationResults.Unavailable(reason).ExecuteAsync(context);
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

    /// <summary>Why a token the cache does not know cannot be served now (503), else null.</summary>
    public static string? Unverifiable(bool everSynchronised, bool cacheOverflowed, bool synchronised, RevocationFailureMode mode) =>
        !everSynchronised ? NeverSynchronised
        : cacheOverflowed ? CacheFull
        : mode == RevocationFailureMode.Closed && !synchronised ? StoreUnreachable
        : null;

    private string? TooLong(ClaimsPrincipal user) =>
        user.ExpiresAt() is { } exp && exp > clock.GetUtcNow() + options.MaxTokenLifetime + RevocationKeys.ValidationClockSkew ? LifetimeTooLong : null;
}
