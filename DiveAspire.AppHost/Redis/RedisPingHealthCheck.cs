using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Aspire.Hosting;

/// <summary>Healthy when an authenticated PING to the local Redis answers; keeps one multiplexer per resource.</summary>
internal sealed class RedisPingHealthCheck(IResourceWithConnectionString redis) : IHealthCheck, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ConnectionMultiplexer? _connection;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
            await connection.GetDatabase().PingAsync().ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"{redis.Name} did not answer PING: {ex.GetType().Name}");
        }
    }

    private async Task<ConnectionMultiplexer> GetConnectionAsync(CancellationToken ct)
    {
        if (_connection is { } existing)
        {
            return existing;
        }
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_connection is null)
            {
                var connectionString = await redis.GetConnectionStringAsync(ct).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("connection string not available yet");
                var options = ConfigurationOptions.Parse(connectionString).WithTlsOf(redis);
                options.AbortOnConnectFail = false;
                options.ConnectTimeout = 2000;
                _connection = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
            }
            return _connection;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _gate.Dispose();
    }
}
