using System.Threading.RateLimiting;
using DiveAspire.Backend.Metrics;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>
/// One client's window for one limiter type, as a System.Threading.RateLimiting limiter so ASP.NET Core's rate-limiting
/// middleware drives it. The state lives in <see cref="RateLimitStore"/>, so the middleware may drop and recreate this
/// object freely. Sets the RateLimit-* headers on the response being served (also when it succeeds).
/// </summary>
public sealed class DiveRateLimiter(string type, string client, LimitRule rule, RateLimitStore store, IHttpContextAccessor accessor) : RateLimiter
{
    private long _lastUsedTicks = Environment.TickCount64;

    public override TimeSpan? IdleDuration => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastUsedTicks));

    public override RateLimiterStatistics? GetStatistics() => null;

    // The answer needs a Redis round trip: report "not acquired" here so the middleware calls AcquireAsync.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => DecisionPending.Instance;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _lastUsedTicks, Environment.TickCount64);
        var countsFailuresOnly = type == RateLimitPolicies.Auth;
        var result = await store.ApplyAsync(type, client, rule, countsFailuresOnly ? WindowMode.Peek : WindowMode.Hit);
        if (accessor.HttpContext is { } http)
        {
            RateLimitHeaders.Set(http.Response, rule, result);
            if (countsFailuresOnly && result.Admitted)
            {
                http.Response.OnStarting(() => CountIfFailedAsync(http.Response));
            }
        }
        if (result.Admitted)
        {
            if (!countsFailuresOnly)
            {
                DiveMetrics.RateLimitHits.WithLabels(type).Inc();
            }
            return new Lease(true, type, rule, result);
        }
        DiveMetrics.RateLimitBlocks.WithLabels(type).Inc();
        return new Lease(false, type, rule, result);
    }

    private async Task CountIfFailedAsync(HttpResponse response)
    {
        if (response.StatusCode is StatusCodes.Status400BadRequest or StatusCodes.Status401Unauthorized)
        {
            var result = await store.ApplyAsync(type, client, rule, WindowMode.Fail);
            DiveMetrics.RateLimitHits.WithLabels(type).Inc();
            RateLimitHeaders.Set(response, rule, result);
        }
    }

    public sealed class Lease(bool acquired, string type, LimitRule rule, WindowResult result) : RateLimitLease
    {
        public string Type => type;
        public LimitRule Rule => rule;
        public WindowResult Result => result;
        public override bool IsAcquired => acquired;
        public override IEnumerable<string> MetadataNames => [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? result.ResetAfter : null;
            return metadata is not null;
        }
    }

    private sealed class DecisionPending : RateLimitLease
    {
        public static readonly DecisionPending Instance = new();
        public override bool IsAcquired => false;
        public override IEnumerable<string> MetadataNames => [];
        public override bool TryGetMetadata(string metadataName, out object? metadata) { metadata = null; return false; }
    }
}
