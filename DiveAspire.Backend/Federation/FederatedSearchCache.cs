using DiveAspire.Backend.Authorization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DiveAspire.Backend.Redis;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using StackExchange.Redis;

namespace DiveAspire.Backend.FederatedSearch;

/// <summary>
/// Merged results under <c>dive:federation:query:{first 16 hex of sha256(normalised query)}:{first 16 hex of sha256(the
/// caller's clearance, country and COIs)}</c> for 60 s (peers filter what they return by the caller's attributes, so
/// callers with other attributes never share an entry), in the instance's
/// Redis behind Polly's circuit breaker (<see cref="SearchCacheBreaker"/>: 3 errors in a row open it, retry after
/// <c>Dive:FederatedSearch:BreakSeconds</c>, default 30): while it is open search goes on uncached.
/// </summary>
public sealed class FederatedSearchCache(
    RedisStores redis, ResiliencePipelineProvider<string> pipelines,
    [FromKeyedServices(SearchCacheBreaker.PipelineName)] CircuitBreakerStateProvider breaker, ILogger<FederatedSearchCache> logger)
{
    private readonly ResiliencePipeline _pipeline = pipelines.GetPipeline(SearchCacheBreaker.PipelineName);

    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    public CircuitState State => breaker.CircuitState;

    /// <summary>Trimmed, lower case, inner whitespace collapsed: "  NATO   Report" and "nato report" share an entry.</summary>
    public static string Normalise(string query) =>
        string.Join(' ', query.Trim().ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    public static string Key(string query, Subject caller) =>
        $"dive:federation:query:{Hash(Normalise(query))}:{Hash(AccessAttributes(caller))}";

    /// <summary>What a peer's answer depends on: clearance, country and communities of interest (not who the caller is).</summary>
    public static string AccessAttributes(Subject caller) =>
        string.Join('|', Classification.Normalise(caller.Clearance), caller.Country.ToUpperInvariant(),
            string.Join(',', caller.Cois.Select(c => c.ToUpperInvariant()).Order(StringComparer.Ordinal)));

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];

    public async Task<SearchOutcome?> GetAsync(string query, Subject caller) =>
        await GuardedAsync(async db => await db.StringGetAsync(Key(query, caller)) is { HasValue: true } value
            ? JsonSerializer.Deserialize(value.ToString(), StoreJson.Default.SearchOutcome)
            : null);

    public async Task<bool> SetAsync(string query, Subject caller, SearchOutcome outcome) =>
        await GuardedAsync(async db => (bool?)await db.StringSetAsync(Key(query, caller), JsonSerializer.Serialize(outcome, StoreJson.Default.SearchOutcome), Ttl)) == true;

    private async Task<T?> GuardedAsync<T>(Func<IDatabase, Task<T?>> action)
    {
        try
        {
            return await _pipeline.ExecuteAsync(async _ =>
            {
                if (!redis.Cache.IsConnected)
                {
                    throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "the instance's Redis is not connected");
                }
                return await action(redis.Cache.GetDatabase()).WaitAsync(Timeout);
            });
        }
        catch (BrokenCircuitException)
        {
            // Open (or half-open with its one trial under way): skip the cache.
            return default;
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            logger.LogWarning("Federated search cache error ({Reason}); breaker {State}", ex.GetType().Name, SearchCacheBreaker.Name(State));
            return default;
        }
    }
}
