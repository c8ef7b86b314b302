using System.Net;
using DiveAspire.Topology;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Aspire.Hosting;

/// <summary>Healthy when the Sentinel answers which node is the shared store's primary (authenticated as operator).</summary>
internal sealed class SentinelHealthCheck(LocalSentinelResource sentinel) : IHealthCheck, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ConnectionMultiplexer? _connection;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
            var server = connection.GetServer(connection.GetEndPoints()[0]);
            var primary = await server.SentinelGetMasterAddressByNameAsync(BlacklistHighAvailability.ServiceName).ConfigureAwait(false);
            return primary is null
                ? HealthCheckResult.Unhealthy($"{sentinel.Name} does not know a primary of {BlacklistHighAvailability.ServiceName}")
                : HealthCheckResult.Healthy($"primary {primary}");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"{sentinel.Name} did not answer: {ex.GetType().Name}");
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
                var connectionString = await ((IResourceWithConnectionString)sentinel).GetConnectionStringAsync(ct).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("connection string not available yet");
                var options = ConfigurationOptions.Parse(connectionString);
                options.CommandMap = CommandMap.Sentinel;
                options.AbortOnConnectFail = false;
                options.ConnectTimeout = 2000;
                _connection = await ConnectionMultiplexer.SentinelConnectAsync(options).ConfigureAwait(false);
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
