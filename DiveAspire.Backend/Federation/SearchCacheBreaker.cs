using Polly;
using Polly.CircuitBreaker;

namespace DiveAspire.Backend.FederatedSearch;

/// <summary>
/// Polly's circuit breaker in front of the federated-search cache: it opens when the last <c>threshold</c> or more calls
/// within <c>breakDuration</c> all failed with a Redis error or a timeout (Polly counts a failure ratio over a sampling
/// window: ratio 1 with a minimum of <c>threshold</c> calls is "that many errors in a row"; a success earlier in the
/// window holds it closed until it ages out). While open, callers skip the cache. After <c>breakDuration</c> one trial
/// is let through (half-open): success closes it, failure opens it again.
/// </summary>
public static class SearchCacheBreaker
{
    public const string PipelineName = "federated-search-cache";

    public static ResiliencePipelineBuilder AddSearchCacheBreaker(this ResiliencePipelineBuilder pipeline, int threshold, TimeSpan breakDuration,
        CircuitBreakerStateProvider state) =>
        pipeline.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            FailureRatio = 1.0,
            MinimumThroughput = threshold,
            SamplingDuration = breakDuration,
            BreakDuration = breakDuration,
            ShouldHandle = new PredicateBuilder().Handle<Exception>(DiveAspire.Backend.Redis.RedisFailures.Is),
            StateProvider = state,
        });

    /// <summary>What responses show: closed, open or halfopen.</summary>
    public static string Name(CircuitState state) => state.ToString().ToLowerInvariant();
}
