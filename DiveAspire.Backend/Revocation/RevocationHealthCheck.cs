using DiveAspire.Backend.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DiveAspire.Backend.Revocation;

/// <summary>Degraded while the shared store is unreachable or the local cache is not synchronised with it.</summary>
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
            ["failureMode"] = options.FailureMode.ToString().ToLowerInvariant(),
        };
        if (sync.LastSync is { } lastSync)
        {
            data["lastSync"] = lastSync;
        }
        var result = !connected
            ? new HealthCheckResult(context.Registration.FailureStatus, "Shared revocation store unreachable: only locally known revocations are enforced", data: data)
            : !sync.Synchronised
                ? new HealthCheckResult(context.Registration.FailureStatus, "Revocation cache is resynchronising with the shared store", data: data)
                : HealthCheckResult.Healthy("Revocation cache synchronised with the shared store", data);
        return Task.FromResult(result);
    }
}
