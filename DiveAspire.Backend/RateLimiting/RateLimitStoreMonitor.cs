using DiveAspire.Backend.Metrics;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>Every second: back to Redis when it answers again. Every 15 s: dive_v3_rate_limit_active_keys per limiter.</summary>
public sealed class RateLimitStoreMonitor(RateLimitStore store, ILogger<RateLimitStoreMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var tick = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await store.TryReturnToRedisAsync();
            if (tick++ % 15 == 0)
            {
                await PublishActiveKeysAsync(stoppingToken);
            }
        }
    }

    private async Task PublishActiveKeysAsync(CancellationToken ct)
    {
        try
        {
            foreach (var (type, keys) in await store.ActiveKeysAsync(ct))
            {
                DiveMetrics.RateLimitActiveKeys.WithLabels(type).Set(keys.Count);
            }
        }
        catch (Exception ex) when (RateLimitStore.IsRedisFailure(ex))
        {
            logger.LogDebug("Active rate-limit keys not counted: {Reason}", ex.GetType().Name);
        }
    }
}
