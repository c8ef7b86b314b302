using DiveAspire.Cli.Connections;

namespace DiveAspire.Cli.Operations;

/// <summary>
/// The highly available revocation store as the CLI and the dashboard reach it: the Sentinels (as their operator user,
/// admin on demand) and the data nodes (operator), the Sentinel service name, the quorum and how many replicas are planned.
/// </summary>
public sealed record SentinelSetup(
    string ServiceName,
    int Quorum,
    int PlannedReplicas,
    TimeSpan MaxReplicaLag,
    IReadOnlyList<RedisTarget> Sentinels,
    IReadOnlyList<RedisTarget> DataNodes)
{
    /// <summary>
    /// The data node a Sentinel reports at <paramref name="address"/> (host:port): the planned node with that endpoint,
    /// else with that port (the host a Sentinel announces can differ from the one the CLI uses), else that address with
    /// the first node's users (every data node has the same ones).
    /// </summary>
    public RedisTarget DataNode(string address)
    {
        var (host, port) = EndpointOverride.Parse(address, "the address a Sentinel reported");
        return DataNodes.FirstOrDefault(n => n.Endpoint == address)
            ?? DataNodes.FirstOrDefault(n => n.Port == port)
            ?? DataNodes[0] with { Host = host, Port = port, Admin = null };
    }

    /// <summary>The planned name of the node at <paramref name="address"/>, or the address itself.</summary>
    public string NodeName(string address) =>
        DataNodes.FirstOrDefault(n => n.Endpoint == address)?.Name
        ?? (int.TryParse(address[(address.LastIndexOf(':') + 1)..], out var port) ? DataNodes.FirstOrDefault(n => n.Port == port)?.Name : null)
        ?? address;
}
