namespace DiveAspire.Backend.RateLimiting;

/// <summary>Names of the rate-limiter policies: apply with <c>.RequireRateLimiting(RateLimitPolicies.Api)</c>.</summary>
public static class RateLimitPolicies
{
    public const string Api = "api";
    public const string Auth = "auth";
    public const string Upload = "upload";
    public const string Admin = "admin";
    public const string Strict = "strict";
    public const string Revocation = "revocation";

    public static readonly string[] All = [Api, Auth, Upload, Admin, Strict, Revocation];

    /// <summary>Redis key prefix of one limiter's counters: <c>dive-v3:rate-limit:{type}:</c>.</summary>
    public static string KeyPrefix(string type) => $"dive-v3:rate-limit:{type}:";
}
