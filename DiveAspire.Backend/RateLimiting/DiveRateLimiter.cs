using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using DiveAspire.Backend.Metrics;
using Prometheus;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>
/// One client's window for one limiter type, as a System.Threading.RateLimiting limiter so ASP.NET Core's rate-limiting
/// middleware drives it. The state lives in <see cref="RateLimitStore"/>, so the middleware may drop and recreate this
/// object freely. Sets the RateLimit-* headers on the response being served (also when it succeeds).
/// Everything that is the same for every request of this client (Redis key, labelled metrics, the Limit header) is
/// computed once here, not per request: this sits on the hot path of every rate-limited endpoint.
/// </summary>
public sealed class DiveRateLimiter : RateLimiter
{
    private readonly string _type;
    private readonly string _key;
    private readonly LimitRule _rule;
    private readonly FixedWindow.Call _window;
    private readonly string _limitHeader;
    private readonly RateLimitStore _store;
    private readonly RefusedClients _refused;
    private readonly IHttpContextAccessor _accessor;
    private readonly bool _countsFailuresOnly;
    private readonly Counter.Child _hits;
    private readonly Counter.Child _blocks;
    private long _lastUsedTicks = Environment.TickCount64;
    private long _refusedUntilTicks;

    public DiveRateLimiter(string type, string client, LimitRule rule, RateLimitStore store, RefusedClients refused, IHttpContextAccessor accessor)
    {
        _refused = refused;
        _type = type;
        _key = RateLimitPolicies.KeyPrefix(type) + client;
        _rule = rule;
        _window = new FixedWindow.Call(_key, rule);
        _limitHeader = rule.Max.ToString(CultureInfo.InvariantCulture);
        _store = store;
        _accessor = accessor;
        _countsFailuresOnly = type == RateLimitPolicies.Auth;
        _hits = DiveMetrics.RateLimitHits.WithLabels(type);
        _blocks = DiveMetrics.RateLimitBlocks.WithLabels(type);
    }

    public override TimeSpan? IdleDuration => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastUsedTicks));

    public override RateLimiterStatistics? GetStatistics() => null;

    // In memory an admission is decided here, synchronously. Anything else (a Redis round trip, or a rejection, which
    // counts nothing so may be asked again) reports "not acquired" so that the middleware calls AcquireAsync.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        _store.TryAdmitInMemory(_window, WindowMode.Hit, out var result) ? Decide(result) : DecisionPending.Instance;

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var pending = _store.ApplyAsync(_window, WindowMode.Hit, refusedLately: Environment.TickCount64 < Volatile.Read(ref _refusedUntilTicks));
        return pending.IsCompletedSuccessfully ? new(Decide(pending.Result)) : AwaitDecisionAsync(pending);
    }

    // Pooled like the store's: the middleware awaits the lease once.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<RateLimitLease> AwaitDecisionAsync(ValueTask<WindowResult> pending) => Decide(await pending);

    private RateLimitLease Decide(WindowResult result)
    {
        var now = Environment.TickCount64;
        Interlocked.Exchange(ref _lastUsedTicks, now);
        Volatile.Write(ref _refusedUntilTicks, result.Admitted ? 0 : now + (long)result.ResetAfter.TotalMilliseconds);
        _refused.Record(_key, result);
        if (_accessor.HttpContext is { } http)
        {
            SetHeaders(http.Response, result);
            if (_countsFailuresOnly && result.Admitted)
            {
                http.Response.OnStarting(static state =>
                {
                    var (limiter, response) = ((DiveRateLimiter, HttpResponse))state;
                    return limiter.RefundUnlessFailedAsync(response);
                }, (this, http.Response));
            }
        }
        if (result.Admitted)
        {
            if (!_countsFailuresOnly)
            {
                _hits.Inc();
            }
            // Nothing reads an admitted lease but IsAcquired: one instance serves every admission.
            return Admitted.Instance;
        }
        _blocks.Inc();
        return new Lease(false, _type, _rule, result);
    }

    private void SetHeaders(HttpResponse response, WindowResult result) => RateLimitHeaders.Set(response, _limitHeader, _rule, result);

    /// <summary>
    /// The auth limiter counts failures only, yet admits like the others (each admission takes a slot at once, so
    /// concurrent attempts can never pass the limit together) and gives the slot back when the answer is not a failure.
    /// </summary>
    private async Task RefundUnlessFailedAsync(HttpResponse response)
    {
        if (response.StatusCode is StatusCodes.Status400BadRequest or StatusCodes.Status401Unauthorized)
        {
            _hits.Inc();
            return;
        }
        SetHeaders(response, await _store.ApplyAsync(_window, WindowMode.Refund));
    }

    public sealed class Lease(bool acquired, string type, LimitRule rule, WindowResult result) : RateLimitLease
    {
        private static readonly string[] RetryAfterOnly = [MetadataName.RetryAfter.Name];

        public string Type => type;
        public LimitRule Rule => rule;
        public WindowResult Result => result;
        public override bool IsAcquired => acquired;
        public override IEnumerable<string> MetadataNames => RetryAfterOnly;

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? result.ResetAfter : null;
            return metadata is not null;
        }
    }

    private sealed class Admitted : RateLimitLease
    {
        public static readonly Admitted Instance = new();
        public override bool IsAcquired => true;
        public override IEnumerable<string> MetadataNames => [];
        public override bool TryGetMetadata(string metadataName, out object? metadata) { metadata = null; return false; }
    }

    private sealed class DecisionPending : RateLimitLease
    {
        public static readonly DecisionPending Instance = new();
        public override bool IsAcquired => false;
        public override IEnumerable<string> MetadataNames => [];
        public override bool TryGetMetadata(string metadataName, out object? metadata) { metadata = null; return false; }
    }
}
