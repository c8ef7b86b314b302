using DiveAspire.Backend.Instance;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DiveAspire.Backend.Redis;

/// <summary>
/// The HA shared store (a Sentinel connection string): finds the data nodes through the Sentinels
/// (<see cref="SentinelPrimary.DataNodeOptionsAsync"/>) and connects to them, in the background, for as long as the
/// Sentinels take to agree. Meanwhile the backend listens and serves as during a store outage: the keyed
/// <c>blacklist</c> connection (<see cref="DataNodeConnection"/>) is not connected, the revocation cache is not
/// synchronised, so the backend is live but not ready and refuses tokens (503); once a majority agrees, the connection is
/// made, the revocation subscriber subscribes and resynchronises, and the backend becomes ready, without a restart.
/// A refusal no Sentinel can lift (no majority can form: Sentinels beyond loopback naming loopback nodes) stops the
/// backend, with the one line <see cref="SentinelPrimary"/> logged.
/// </summary>
public sealed class SharedStoreDiscovery(
    RedisStores stores, SentinelPrimary sentinels, IOptionsMonitor<ConfigurationOptions> options, InstanceInfo instance,
    ILoggerFactory loggers, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Nothing of this on the start-up path, not even the first connection attempts.
        await Task.Yield();
        ConfigurationOptions data;
        try
        {
            data = await sentinels.DataNodeOptionsAsync(options.Get(RedisStores.BlacklistName), stoppingToken);
        }
        catch (InvalidOperationException) when (sentinels.StartRefusal is not null)
        {
            lifetime.StopApplication();
            return;
        }
        data.LoggerFactory ??= loggers;
        // Connections never abort on failure (RedisClientSetup.Configure): a data node that is down is reconnected to.
        var dataNodes = await ConnectionMultiplexer.ConnectAsync(data);
        // WAIT blocks the connection it runs on for up to its timeout while replicas lag: on its own connection it
        // holds up only other revocation writes, never the checks, the resync or the health checks on Blacklist.
        var writeOptions = data.Clone();
        writeOptions.ClientName = RedisStores.ClientName(instance.Code, RedisStores.BlacklistWritesName);
        var writes = await ConnectionMultiplexer.ConnectAsync(writeOptions);
        if (stoppingToken.IsCancellationRequested)
        {
            await writes.DisposeAsync();
            await dataNodes.DisposeAsync();
            return;
        }
        stores.UseDataNodes(dataNodes, writes);
    }
}
