namespace DiveAspire.Backend.RateLimiting;

/// <summary>RateLimit-Limit / -Remaining / -Reset (seconds until the window resets) and the 429 response.</summary>
public static class RateLimitHeaders
{
    public static void Set(HttpResponse response, LimitRule rule, WindowResult result)
    {
        if (response.HasStarted)
        {
            return;
        }
        response.Headers["RateLimit-Limit"] = rule.Max.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["RateLimit-Remaining"] = result.Remaining(rule).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["RateLimit-Reset"] = Seconds(result.ResetAfter).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public static long Seconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalSeconds));

    public static async ValueTask WriteRejectionAsync(HttpContext http, DiveRateLimiter.Lease lease, CancellationToken ct)
    {
        var retryAfter = Seconds(lease.Result.ResetAfter);
        Set(http.Response, lease.Rule, lease.Result);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await http.Response.WriteAsJsonAsync(new
        {
            error = "Too Many Requests",
            message = lease.Type == RateLimitPolicies.Auth
                ? "Too many failed attempts, please try again later."
                : "Too many requests, please try again later.",
            details = new { retryAfter, limit = lease.Rule.Max, remaining = lease.Result.Remaining(lease.Rule) },
        }, ct);
    }
}
