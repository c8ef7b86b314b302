using System.Globalization;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>RateLimit-Limit / -Remaining / -Reset (seconds until the window resets) and the 429 response.</summary>
public static class RateLimitHeaders
{
    public static void Set(HttpResponse response, LimitRule rule, WindowResult result) =>
        Set(response, rule.Max.ToString(CultureInfo.InvariantCulture), rule, result);

    /// <param name="limit">rule.Max already formatted (a limiter formats it once, not per request).</param>
    public static void Set(HttpResponse response, string limit, LimitRule rule, WindowResult result)
    {
        if (response.HasStarted)
        {
            return;
        }
        var headers = response.Headers;
        headers[Limit] = limit;
        headers[Remaining] = Format(result.Remaining(rule));
        headers[Reset] = Format(Seconds(result.ResetAfter));
    }

    private const string Limit = "RateLimit-Limit";
    private const string Remaining = "RateLimit-Remaining";
    private const string Reset = "RateLimit-Reset";

    // Small numbers are the common case (remaining requests, seconds of a short window): format them once.
    private static readonly string[] SmallNumbers = [.. Enumerable.Range(0, 1024).Select(n => n.ToString(CultureInfo.InvariantCulture))];

    private static string Format(long value) =>
        value >= 0 && value < SmallNumbers.Length ? SmallNumbers[value] : value.ToString(CultureInfo.InvariantCulture);

    public static long Seconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalSeconds));

    public static async ValueTask WriteRejectionAsync(HttpContext http, DiveRateLimiter.Lease lease, CancellationToken ct)
    {
        var retryAfter = Seconds(lease.Result.ResetAfter);
        Set(http.Response, lease.Rule, lease.Result);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        await http.Response.WriteAsJsonAsync(new RateLimitRejection(
            "Too Many Requests",
            lease.Type == RateLimitPolicies.Auth
                ? "Too many failed attempts, please try again later."
                : "Too many requests, please try again later.",
            new RejectionDetails(retryAfter, lease.Rule.Max, lease.Result.Remaining(lease.Rule))), WireJson.Default.RateLimitRejection, cancellationToken: ct);
    }
}
