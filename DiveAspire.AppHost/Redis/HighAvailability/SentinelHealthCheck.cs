using System.Net;
using DiveAspire.Topology;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Aspire.Hosting;

/// <summary>
/// Healthy when the Sentinel (asked as operator) names the shared store's primary and knows every other data node as a
/// replica and every other Sentinel: only then can it take part in a failover (a Sentinel that knows no replica cannot
/// promote one, one that knows too few peers cannot elect a leader). The store is ready when its Sentinels are.
/// </summary>
internal sealed class SentinelHealthCheck(LocalSentinelResource sentinel, BlacklistHighAvailability ha) : IHealthCheck, IDisposable
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
            if (primary is null)
            {
                return HealthCheckResult.Unhealthy($"{sentinel.Name} does not know a primary of {BlacklistHighAvailability.ServiceName}");
            }
            var replicas = (await server.SentinelReplicasAsync(BlacklistHighAvailability.ServiceName).ConfigureAwait(false)).Length;
            var peers = (await server.SentinelSentinelsAsync(BlacklistHighAvailability.ServiceName).ConfigureAwait(false)).Length;
            var (plannedReplicas, plannedPeers) = (ha.DataNodes.Count - 1, ha.Sentinels.Count - 1);
            return replicas >= plannedReplicas && peers >= plannedPeers
                ? HealthCheckResult.Healthy($"primary {primary}, {replicas} replicas and {peers} other Sentinels known")
                : HealthCheckResult.Unhealthy($"{sentinel.Name} knows {replicas} of {plannedReplicas} replicas and {peers} of {plannedPeers} other Sentinels");
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
