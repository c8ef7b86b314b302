using System.Text.Json;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.RateLimiting;
using DiveAspire.Backend.Redis;
using StackExchange.Redis;

namespace DiveAspire.Backend.Otp;

/// <summary>
/// OTP enrolment: setup stores a pending secret under <c>otp:pending:{userId}</c> for 600 s (strict limiter), encrypted
/// (<see cref="PendingSecretProtector"/>); verify confirms it with a code (auth limiter, failures count) and consumes it
/// atomically, so a code replayed concurrently confirms the enrolment once; the pending secret can be read by its owner
/// only (404 when none), and deleted by its owner or an operator of this instance. {userId} in the paths is a uniqueID of
/// the caller's realm; the Redis key is the realm-qualified user key (<see cref="DiveClaims.UserId"/>).
/// </summary>
public static class OtpEndpoints
{
    public static readonly TimeSpan PendingTtl = TimeSpan.FromSeconds(600);

    public static string Key(string userId) => $"otp:pending:{userId}";


    // Deletes the pending secret only if it is still the value this request verified: of concurrent verifies, one wins.
    private const string ConsumeScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    public static IServiceCollection AddOtp(this IServiceCollection services) => services.AddSingleton<PendingSecretProtector>();

    public static IEndpointRouteBuilder MapOtp(this IEndpointRouteBuilder app)
    {
        var otp = app.MapGroup("/api/auth/otp").RequireAuthorization();

        otp.MapPost("/setup", async (HttpContext http, RedisStores redis, InstanceInfo instance, TimeProvider clock, PendingSecretProtector protector) =>
        {
            if (!protector.Configured)
            {
                return Wire.Json(new ErrorBody("Service Unavailable", $"OTP enrolment is not configured on this backend ({PendingSecretProtector.KeySetting} is missing)"), statusCode: 503);
            }
            var user = http.User.UserId()!;
            var secret = Totp.NewSecret();
            return await Guarded(async () =>
            {
                var stored = protector.Protect(new PendingOtpSecret(secret, clock.GetUtcNow()).ToJson(), Key(user));
                await redis.Cache.GetDatabase().StringSetAsync(Key(user), stored, PendingTtl);
                var issuer = Uri.EscapeDataString($"DIVE V3 {instance.Code}");
                return Wire.Json(new OtpSetupResponse(
                    user,
                    secret,
                    $"otpauth://totp/{issuer}:{Uri.EscapeDataString(user)}?secret={secret}&issuer={issuer}&digits=6&period=30",
                    (int)PendingTtl.TotalSeconds));
            });
        }).RequireRateLimiting(RateLimitPolicies.Strict);

        otp.MapPost("/verify", async (VerifyRequest? body, HttpContext http, RedisStores redis, TimeProvider clock, PendingSecretProtector protector) => await Guarded(async () =>
        {
            var user = http.User.UserId()!;
            var db = redis.Cache.GetDatabase();
            var noPending = Wire.Json(new ErrorBody("Not Found", "No pending OTP setup for this user"), statusCode: 404);
            if (await db.StringGetAsync(Key(user)) is not { HasValue: true } value || Read(protector, value, user) is not { } pending)
            {
                return noPending;
            }
            if (!Totp.Verify(pending.Secret, body?.Code, clock.GetUtcNow()))
            {
                return Wire.Json(new ErrorBody("Bad Request", "Invalid OTP code"), statusCode: 400);
            }
            if ((long)await db.ScriptEvaluateAsync(ConsumeScript, [Key(user)], [value]) == 0)
            {
                return noPending; // a concurrent verify consumed it first
            }
            return Wire.Json(new OtpVerifiedResponse(user, true));
        })).RequireRateLimiting(RateLimitPolicies.Auth);

        otp.MapGet("/pending-secret/{userId}", async (string userId, HttpContext http, RedisStores redis, PendingSecretProtector protector) => await Guarded(async () =>
        {
            if (http.User.SubjectId() != userId)
            {
                return Wire.Json(new ErrorBody("Forbidden", "A pending OTP secret is returned to its owner only"), statusCode: 403);
            }
            var owner = http.User.UserId()!;
            var entry = await redis.Cache.GetDatabase().StringGetWithExpiryAsync(Key(owner));
            if (!entry.Value.HasValue || Read(protector, entry.Value, owner) is not { } pending)
            {
                return NotFound(userId);
            }
            return Wire.Json(new PendingSecretResponse(userId, pending.Secret, pending.CreatedAt, (int)Math.Ceiling(entry.Expiry?.TotalSeconds ?? 0)));
        })).RequireRateLimiting(RateLimitPolicies.Api);

        otp.MapDelete("/pending-secret/{userId}", async (string userId, HttpContext http, RedisStores redis, InstanceInfo instance) => await Guarded(async () =>
        {
            if (http.User.SubjectId() != userId && !http.User.IsAdminOf(instance.Code))
            {
                return Wire.Json(new ErrorBody("Forbidden", "Only the user or an operator of this instance may delete a pending OTP secret"), statusCode: 403);
            }
            var realm = http.User.Realm()!;
            return await redis.Cache.GetDatabase().KeyDeleteAsync(Key(DiveClaims.UserKey(realm, http.User.IsHubRealm(), userId)))
                ? Wire.Json(new PendingSecretDeletedResponse(userId, true))
                : NotFound(userId);
        })).RequireRateLimiting(RateLimitPolicies.Api);
        return app;
    }

    /// <summary>A stored pending secret, or null when this instance's key did not write it (then it is as good as absent).</summary>
    private static PendingOtpSecret? Read(PendingSecretProtector protector, RedisValue stored, string userKey) =>
        protector.Unprotect(stored.ToString(), Key(userKey)) is { } json ? PendingOtpSecret.FromJson(json) : null;

    private static IResult NotFound(string userId) =>
        Wire.Json(new ErrorBody("Not Found", $"No pending OTP secret for {userId}"), statusCode: 404);

    private static async Task<IResult> Guarded(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            return Wire.Json(new ErrorBody("Service Unavailable", "The instance's Redis did not answer; try again."), statusCode: 503);
        }
    }
}

public sealed record VerifyRequest(string? Code);
