using DiveAspire.Backend.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// Unhealthy (not ready: /health/ready is 503) until this process has synchronised once with the shared store;
/// afterwards degraded while the store is unreachable, the local cache is not synchronised with it, or the cache is full.
/// </summary>
public sealed class RevocationHealthCheck(RevocationStore store, RevocationSubscriber sync, RevocationCache cache, RevocationOptions options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var connected = store.IsConnected;
        DiveMetrics.RevocationStoreUp.Set(connected ? 1 : 0);
        DiveMetrics.RevocationSubscriberConnected.Set(sync.SubscriptionLive ? 1 : 0);
        var data = new Dictionary<string, object>
        {
            ["storeConnected"] = connected,
            ["subscriptionLive"] = sync.SubscriptionLive,
            ["synchronised"] = sync.Synchronised,
            ["cachedTokens"] = cache.TokenCount,
            ["cachedUsers"] = cache.UserCount,
            ["cacheMaxEntries"] = cache.MaxEntries,
            ["cacheFull"] = cache.Overflowed,
            ["failureMode"] = options.FailureMode.ToString().ToLowerInvariant(),
        };
        if (sync.LastSync is { } lastSync)
        {
            data["lastSync"] = lastSync;
        }
        var result = !sync.EverSynchronised
            ? HealthCheckResult.Unhealthy("Revocation cache has not synchronised with the shared store since this process started: tokens are refused", data: data)
            : cache.Overflowed
            ? new HealthCheckResult(context.Registration.FailureStatus, "Revocation cache is full: tokens it does not know are refused", data: data)
            : !connected
            ? new HealthCheckResult(context.Registration.FailureStatus, "Shared revocation store unreachable: only locally known revocations are enforced", data: data)
            : !sync.Synchronised
                ? new HealthCheckResult(context.Registration.FailureStatus, "Revocation cache is resynchronising with the shared store", data: data)
                : HealthCheckResult.Healthy("Revocation cache synchronised with the shared store", data);
        return Task.FromResult(result);
    }
}
