using System.Text.Json;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.RateLimiting;
using DiveAspire.Backend.Redis;
using StackExchange.Redis;

namespace DiveAspire.Backend.Otp;

/// <summary>
/// OTP enrolment: setup stores a pending secret under <c>otp:pending:{userId}</c> for 600 s (strict limiter); verify
/// confirms it with a code (auth limiter, failures count); the pending secret can be read by its owner only (404 when
/// none), and deleted by its owner or an operator of this instance. {userId} in the paths is a uniqueID of the caller's
/// realm; the Redis key is the realm-qualified user key (<see cref="DiveClaims.UserId"/>).
/// </summary>
public static class OtpEndpoints
{
    public static readonly TimeSpan PendingTtl = TimeSpan.FromSeconds(600);

    public static string Key(string userId) => $"otp:pending:{userId}";

    private sealed record Pending(string Secret, DateTimeOffset CreatedAt);

    public static IEndpointRouteBuilder MapOtp(this IEndpointRouteBuilder app)
    {
        var otp = app.MapGroup("/api/auth/otp").RequireAuthorization();

        otp.MapPost("/setup", async (HttpContext http, RedisStores redis, InstanceInfo instance, TimeProvider clock) =>
        {
            var user = http.User.UserId()!;
            var secret = Totp.NewSecret();
            return await Guarded(async () =>
            {
                await redis.Cache.GetDatabase().StringSetAsync(Key(user), JsonSerializer.Serialize(new Pending(secret, clock.GetUtcNow())), PendingTtl);
                var issuer = Uri.EscapeDataString($"DIVE V3 {instance.Code}");
                return Results.Json(new
                {
                    userId = user,
                    secret,
                    otpauthUrl = $"otpauth://totp/{issuer}:{Uri.EscapeDataString(user)}?secret={secret}&issuer={issuer}&digits=6&period=30",
                    expiresIn = (int)PendingTtl.TotalSeconds,
                });
            });
        }).RequireRateLimiting(RateLimitPolicies.Strict);

        otp.MapPost("/verify", async (VerifyRequest? body, HttpContext http, RedisStores redis, TimeProvider clock) => await Guarded(async () =>
        {
            var user = http.User.UserId()!;
            var db = redis.Cache.GetDatabase();
            if (await db.StringGetAsync(Key(user)) is not { HasValue: true } value)
            {
                return Results.Json(new { error = "Not Found", message = "No pending OTP setup for this user" }, statusCode: 404);
            }
            var pending = JsonSerializer.Deserialize<Pending>(value.ToString())!;
            if (!Totp.Verify(pending.Secret, body?.Code, clock.GetUtcNow()))
            {
                return Results.Json(new { error = "Bad Request", message = "Invalid OTP code" }, statusCode: 400);
            }
            await db.KeyDeleteAsync(Key(user));
            return Results.Json(new { userId = user, verified = true });
        })).RequireRateLimiting(RateLimitPolicies.Auth);

        otp.MapGet("/pending-secret/{userId}", async (string userId, HttpContext http, RedisStores redis) => await Guarded(async () =>
        {
            if (http.User.SubjectId() != userId)
            {
                return Results.Json(new { error = "Forbidden", message = "A pending OTP secret is returned to its owner only" }, statusCode: 403);
            }
            var entry = await redis.Cache.GetDatabase().StringGetWithExpiryAsync(Key(http.User.UserId()!));
            if (!entry.Value.HasValue)
            {
                return NotFound(userId);
            }
            var pending = JsonSerializer.Deserialize<Pending>(entry.Value.ToString())!;
            return Results.Json(new { userId, secret = pending.Secret, createdAt = pending.CreatedAt, expiresIn = (int)Math.Ceiling(entry.Expiry?.TotalSeconds ?? 0) });
        })).RequireRateLimiting(RateLimitPolicies.Api);

        otp.MapDelete("/pending-secret/{userId}", async (string userId, HttpContext http, RedisStores redis, InstanceInfo instance) => await Guarded(async () =>
        {
            if (http.User.SubjectId() != userId && !http.User.IsAdminOf(instance.Code))
            {
                return Results.Json(new { error = "Forbidden", message = "Only the user or an operator of this instance may delete a pending OTP secret" }, statusCode: 403);
            }
            var realm = http.User.Realm()!;
            return await redis.Cache.GetDatabase().KeyDeleteAsync(Key(DiveClaims.UserKey(realm, http.User.IsHubRealm(), userId)))
                ? Results.Json(new { userId, deleted = true })
                : NotFound(userId);
        })).RequireRateLimiting(RateLimitPolicies.Api);
        return app;
    }

    private static IResult NotFound(string userId) =>
        Results.Json(new { error = "Not Found", message = $"No pending OTP secret for {userId}" }, statusCode: 404);

    private static async Task<IResult> Guarded(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return Results.Json(new { error = "Service Unavailable", message = "The instance's Redis did not answer; try again." }, statusCode: 503);
        }
    }
}

public sealed record VerifyRequest(string? Code);
