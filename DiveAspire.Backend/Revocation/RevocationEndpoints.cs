using System.Security.Claims;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.RateLimiting;

namespace DiveAspire.Backend.Revocation;

public static class RevocationEndpoints
{
    private const int MaxReasonBytes = 256;
    private const long MaxUserTtlSeconds = 24 * 3600;

    public static IEndpointRouteBuilder MapRevocation(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").RequireAuthorization().AddEndpointFilter(StoreUnavailableAs503);
        // Writes to the shared store have their own limiter: one client cannot fill the noeviction store.
        if (app.ServiceProvider.GetRequiredService<RevocationOptions>().Relay is { } hub)
        {
            if (RevocationOptions.IsPlaintextBeyondThisMachine(hub))
            {
                app.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RevocationEndpoints)).LogWarning(
                    "Revocations are relayed to {Hub} over plain http ({Key}=true): users' bearer tokens cross the network unencrypted", hub.Authority, RevocationOptions.AllowPlaintextRelayKey);
            }
            // A spoke on another machine: its store user is read-only, the hub writes (RevocationRelay).
            foreach (var path in new[] { "/logout", "/revoke", "/blacklist-token" })
            {
                auth.MapPost(path, (HttpContext http, RevocationRelay relay) => relay.ForwardAsync(http)).RequireRateLimiting(RateLimitPolicies.Revocation);
            }
        }
        else
        {
            var writes = auth.MapGroup("").AddEndpointFilter(AcceptRelay);
            writes.MapPost("/logout", LogoutAsync).RequireRateLimiting(RateLimitPolicies.Revocation);
            writes.MapPost("/revoke", RevokeUserAsync).RequireRateLimiting(RateLimitPolicies.Revocation);
            writes.MapPost("/blacklist-token", BlacklistTokenAsync).RequireRateLimiting(RateLimitPolicies.Revocation);
        }
        auth.MapGet("/check-blacklist/{jti?}", async (string? jti, RevocationCache cache, RevocationStore store) =>
            RevocationRequest.ValidateIdentifier(jti, "jti")
            ?? Wire.Json(new CheckBlacklistResponse(jti!, await IsBlacklistedAsync(jti!, cache, store), cache.HeldSince(RevocationKind.Token, jti!))));

        var blacklist = app.MapGroup("/api/blacklist").RequireAuthorization().AddEndpointFilter(StoreUnavailableAs503);
        blacklist.MapPost("/check", CheckAsync);
        blacklist.MapGet("/stats", StatsAsync).RequireAuthorization(AuthenticationSetup.AdminPolicy);
        blacklist.MapPost("/sync", async (RevocationSubscriber sync, InstanceInfo instance, CancellationToken ct) =>
        {
            var (tokens, users) = await sync.ResyncAsync(ct, replace: true);
            return Wire.Json(new SyncResponse(instance.Code, tokens, users));
        }).RequireAuthorization(AuthenticationSetup.AdminPolicy);
        return app;
    }

    /// <summary>Revokes this token and every token of the user for 900 s, atomically.</summary>
    private static async Task<IResult> LogoutAsync(HttpRequest request, ClaimsPrincipal user, RevocationStore store, InstanceInfo instance)
    {
        var (body, error) = await RevocationRequest.ReadAsync(request, required: false);
        if (error is not null)
        {
            return error;
        }
        var (reason, reasonError) = body!.OptionalString("reason", MaxReasonBytes);
        if (reasonError is not null)
        {
            return reasonError;
        }
        var userId = user.UserId();
        if (userId is null)
        {
            return RevocationResults.BadRequest("The token identifies no user (no uniqueID, preferred_username or sub)");
        }
        var jti = user.Jti();
        var records = await store.RevokeSessionAsync(jti, user.ExpiresAt(), userId, reason, RelayCredentials.RelayedBy(request.HttpContext));
        return Wire.Json(new LogoutResponse(
            "Logged out: this token and all of the user's sessions are revoked across the federation",
            jti,
            userId,
            instance.Code,
            records[0].RevokedAt,
            jti is null ? null : records[0].ExpiresAt,
            records[^1].ExpiresAt));
    }

    /// <summary>
    /// Terminates every session of a user for ttlSeconds (900 by default): the caller's own, or another user's for an
    /// admin of that user's realm or of the hub realm. The target is (realm, uniqueID); realm defaults to the caller's.
    /// </summary>
    private static async Task<IResult> RevokeUserAsync(HttpRequest request, ClaimsPrincipal user, RevocationStore store, InstanceInfo instance)
    {
        var (body, error) = await RevocationRequest.ReadAsync(request, required: false);
        if (error is not null)
        {
            return error;
        }
        var (target, targetError) = body!.OptionalString("uniqueID", RevocationKeys.MaxIdentifierBytes);
        var (realm, realmError) = body.OptionalString("realm", 16);
        var (reason, reasonError) = body.OptionalString("reason", MaxReasonBytes);
        var (ttl, ttlError) = body.OptionalNumber("ttlSeconds", 1, MaxUserTtlSeconds);
        if ((targetError ?? realmError ?? reasonError ?? ttlError) is { } invalid)
        {
            return invalid;
        }
        var caller = user.UserId();
        string? targetKey = caller, targetRealm = user.Realm();
        if (!string.IsNullOrWhiteSpace(target))
        {
            targetRealm = (realm ?? user.Realm())?.Trim().ToUpperInvariant();
            if (targetRealm is null || !instance.Federation.Contains(targetRealm))
            {
                return RevocationResults.BadRequest($"'realm' must be the instance code of a realm of this federation ({string.Join(", ", instance.Federation)})");
            }
            targetKey = DiveClaims.UserKey(targetRealm, targetRealm == instance.Hub, target);
        }
        if (targetKey is null || targetRealm is null)
        {
            return RevocationResults.BadRequest("'uniqueID' is required (the token identifies no user)");
        }
        if (targetKey != caller && !user.IsAdminOf(targetRealm))
        {
            return RevocationResults.Forbidden(user.IsAdmin()
                ? $"Only a dive-admin of realm {targetRealm} or of the hub realm may revoke its users' sessions"
                : "Only a dive-admin may revoke another user's sessions");
        }
        var record = await store.RevokeUserAsync(targetKey, ttl is { } seconds ? TimeSpan.FromSeconds(seconds) : null, reason, RelayCredentials.RelayedBy(request.HttpContext));
        var (_, subject) = DiveClaims.ParseUserKey(targetKey, instance.Hub);
        return Wire.Json(new UserRevokedResponse(true, "user", subject, targetRealm, record.RevokedAt, record.ExpiresAt, record.Reason, record.RevokedByInstance));
    }

    /// <summary>Blacklists one jti: the caller's own, or any for an admin (who then gives the token's exp).</summary>
    private static async Task<IResult> BlacklistTokenAsync(HttpRequest request, ClaimsPrincipal user, RevocationStore store, RevocationOptions options, TimeProvider clock)
    {
        var (body, error) = await RevocationRequest.ReadAsync(request, required: true);
        if (error is not null)
        {
            return error;
        }
        var (jti, jtiError) = body!.RequiredIdentifier("jti");
        var (reason, reasonError) = body.OptionalString("reason", MaxReasonBytes);
        var (exp, expError) = body.OptionalNumber("exp", 0, DateTimeOffset.MaxValue.ToUnixTimeSeconds());
        if ((jtiError ?? reasonError ?? expError) is { } invalid)
        {
            return invalid;
        }
        // No token of the federation lives longer than MaxTokenLifetime: a later exp is a mistake or an attempt to fill the store.
        if (exp > (clock.GetUtcNow() + options.MaxTokenLifetime).ToUnixTimeSeconds())
        {
            return RevocationResults.BadRequest($"'exp' must be at most {options.MaxTokenLifetime.TotalHours:0.##} h from now (the federation's longest token lifetime)");
        }
        var own = jti == user.Jti();
        if (!own && !user.IsAdmin())
        {
            return RevocationResults.Forbidden("Only a dive-admin may blacklist another token");
        }
        // A jti names no realm: blacklisting someone else's token is a federation-wide action.
        if (!own && !user.IsFederationAdmin())
        {
            return RevocationResults.Forbidden("Only the hub realm's dive-admin may blacklist another user's token");
        }
        DateTimeOffset? expiresAt = exp is { } seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : own ? user.ExpiresAt() : null;
        if (expiresAt is null)
        {
            return RevocationResults.BadRequest("'exp' (the token's expiry, Unix seconds) is required to blacklist another token");
        }
        var record = await store.RevokeTokenAsync(jti!, expiresAt, reason, RelayCredentials.RelayedBy(request.HttpContext));
        return Wire.Json(new TokenBlacklistedResponse(true, jti!, record.RevokedAt, record.ExpiresAt, record.Reason, record.RevokedByInstance));
    }

    private static async Task<IResult> CheckAsync(HttpRequest request, RevocationCache cache, RevocationStore store)
    {
        var (body, error) = await RevocationRequest.ReadAsync(request, required: true);
        if (error is not null)
        {
            return error;
        }
        var (jti, jtiError) = body!.RequiredIdentifier("jti");
        return jtiError ?? Wire.Json(new BlacklistCheckResponse(jti!, await IsBlacklistedAsync(jti!, cache, store)));
    }

    /// <summary>The local cache first; the store (authoritative) when reachable, else the cache's answer.</summary>
    private static async Task<bool> IsBlacklistedAsync(string jti, RevocationCache cache, RevocationStore store)
    {
        if (cache.IsTokenRevoked(jti))
        {
            return true;
        }
        try
        {
            return await store.ExistsAsync(RevocationKind.Token, jti);
        }
        catch (RevocationStoreUnavailableException)
        {
            return false;
        }
    }

    private static async Task<IResult> StatsAsync(RevocationStore store, RevocationCache cache, RevocationSubscriber sync, RevocationOptions options,
        InstanceInfo instance, CancellationToken ct)
    {
        RevocationCounts? shared = null;
        try
        {
            shared = new RevocationCounts(await store.CountAsync(RevocationKind.Token, ct), await store.CountAsync(RevocationKind.User, ct));
        }
        catch (RevocationStoreUnavailableException)
        {
            // Still report this backend's own view below.
        }
        return Wire.Json(new BlacklistStatsResponse(
            instance.Code,
            shared is not null,
            shared,
            new RevocationCounts(cache.TokenCount, cache.UserCount),
            new SubscriptionState(sync.SubscriptionLive, sync.Synchronised, sync.LastSync),
            options.FailureMode.ToString().ToLowerInvariant(),
            [RevocationKeys.TokenPrefix + "*", RevocationKeys.UserPrefix + "*"]));
    }

    /// <summary>
    /// A revocation relayed by a remote spoke's backend carries its <see cref="RelayCredentials"/>: accepted, the record
    /// names that backend. A credential that does not verify (forged, another token, or a spoke whose clock is off) only
    /// loses its label: the revocation is still written, named as the hub's own, and the problem logged. The caller's token
    /// is authorized as for any caller; refusing the revocation over a label would let a clock drift stop a realm's logouts
    /// while leaving the header out is accepted anyway (review R8).
    /// </summary>
    private static async ValueTask<object?> AcceptRelay(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!http.Request.Headers.ContainsKey(RelayCredentials.Header))
        {
            return await next(context);
        }
        var (relayedBy, problem) = await http.RequestServices.GetRequiredService<RelayCredentials>().ValidateAsync(http.Request);
        if (problem is null && !RelayCredentials.MayRelay(relayedBy!, http.User))
        {
            problem = $"from {relayedBy}, which relays tokens of its own realm only";
        }
        if (problem is not null)
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RevocationEndpoints))
                .LogWarning("A relayed revocation's relay credential is {Problem}: recorded as this backend's own", problem);
            return await next(context);
        }
        RelayCredentials.Accept(http, relayedBy!);
        return await next(context);
    }

    private static async ValueTask<object?> StoreUnavailableAs503(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (RevocationStoreUnavailableException ex)
        {
            context.HttpContext.Response.Headers.RetryAfter = "5";
            return RevocationResults.Unavailable(ex.Message);
        }
    }
}
