using System.Net;
using DiveAspire.Topology;
using DiveAspire.Tests.Infrastructure;
using StackExchange.Redis;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// Issue 14: hub + ROU + BEL with the shared store highly available (primary, two replicas, three Sentinels), process
/// runtime, random host ports. Helpers to find the primary, a node's process and its replication role.
/// </summary>
public sealed class BlacklistHaFixture : FederationFixture
{
    public override string Spokes => "rou,bel";
    protected override IEnumerable<string> ExtraArgs => [AppHostArgs.HighAvailability];

    public BlacklistHighAvailability Ha => Topology.BlacklistHa!;
    public IEnumerable<string> DataNodeNames => Ha.DataNodes.Select(n => n.ResourceName);

    /// <summary>The data node the Sentinels name as primary (the first Sentinel that answers).</summary>
    public async Task<string?> PrimaryAsync()
    {
        foreach (var sentinel in Ha.Sentinels)
        {
            try
            {
                var options = ConfigurationOptions.Parse(await ConnectionStringAsync(sentinel.ResourceName));
                options.CommandMap = CommandMap.Sentinel;
                options.ConnectTimeout = 2000;
                options.AbortOnConnectFail = true;
                await using var connection = await ConnectionMultiplexer.SentinelConnectAsync(options);
                var primary = await connection.GetServer(connection.GetEndPoints()[0]).SentinelGetMasterAddressByNameAsync(BlacklistHighAvailability.ServiceName);
                if (primary is IPEndPoint ip)
                {
                    return await NodeOnPortAsync(ip.Port);
                }
            }
            catch (RedisException)
            {
                // Ask the next Sentinel.
            }
        }
        return null;
    }

    private async Task<string?> NodeOnPortAsync(int port)
    {
        foreach (var node in DataNodeNames)
        {
            if ((await RedisEndpointAsync(node)).Port == port)
            {
                return node;
            }
        }
        return null;
    }

    /// <summary>ROLE of a data node: "master" or "slave" (replica), with the port of its primary for a replica; null when it does not answer.</summary>
    public async Task<(string Role, int? PrimaryPort, string LinkState)?> RoleAsync(string node)
    {
        try
        {
            await using var connection = await ConnectAsync(node);
            var server = connection.GetServers()[0];
            var info = (await server.InfoAsync("replication")).SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value);
            return (info["role"], info.TryGetValue("master_port", out var port) ? int.Parse(port) : null, info.GetValueOrDefault("master_link_status", ""));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Exactly one data node is primary, the two others replicate from it with their link up.</summary>
    public async Task<bool> SteadyAsync()
    {
        var primary = await PrimaryAsync();
        if (primary is null)
        {
            return false;
        }
        var primaryPort = (await RedisEndpointAsync(primary)).Port;
        foreach (var node in DataNodeNames)
        {
            var role = await RoleAsync(node);
            var steady = node == primary
                ? role is { Role: "master" }
                : role is { Role: "slave", LinkState: "up" } r && r.PrimaryPort == primaryPort;
            if (!steady)
            {
                return false;
            }
        }
        return true;
    }
}

[CollectionDefinition(Name)]
public sealed class BlacklistHaCollection : ICollectionFixture<BlacklistHaFixture>
{
    public const string Name = "blacklist-ha";
}
