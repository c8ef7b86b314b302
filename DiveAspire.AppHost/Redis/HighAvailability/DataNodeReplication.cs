using System.Globalization;
using DiveAspire.Topology;

namespace Aspire.Hosting;

/// <summary>
/// How one data node of the HA shared store replicates. Every address is 127.0.0.1 and the planned (or, in tests, free)
/// host port, which the node binds itself (process runtime: redis-server; container runtime: the container on the
/// host's network, <see cref="HaContainerLaunch"/>): replicas and Sentinels announce those, so every address a Sentinel
/// hands out stays valid when a node restarts.
/// </summary>
internal sealed class DataNodeReplication(BlacklistHighAvailability ha, RedisUsersAnnotation users, EndpointReference? initialPrimary)
{
    public const string Host = "127.0.0.1";

    /// <summary>The Sentinels' endpoints (set once they are created), asked who the primary is when this node (re)starts.</summary>
    public IReadOnlyList<EndpointReference> Sentinels { get; set; } = [];

    public BlacklistHighAvailability Ha => ha;

    /// <summary>
    /// The node's configuration-file lines with a password: the replication user, and whom to replicate: the primary the
    /// Sentinels name now (a node restarted after a failover rejoins as a replica at once), else the initial primary.
    /// </summary>
    public async Task<string> ConfigLinesAsync(LocalRedisResource self, CancellationToken ct)
    {
        var password = await users[RedisAcl.ReplicationUser].Password.GetValueAsync(ct).ConfigureAwait(false);
        var lines = $"masteruser {RedisAcl.ReplicationUser}\nmasterauth {Quote(password!)}\n";
        var selfPort = await PortAsync(self.PrimaryEndpoint, ct).ConfigureAwait(false);
        var current = await CurrentPrimaryPortAsync(ct).ConfigureAwait(false);
        int? primaryPort = current ?? (initialPrimary is null ? null : await PortAsync(initialPrimary, ct).ConfigureAwait(false));
        return primaryPort is { } port && port != selfPort
            ? lines + string.Create(CultureInfo.InvariantCulture, $"replicaof {Host} {port}\n")
            : lines;
    }

    public async Task<int?> CurrentPrimaryPortAsync(CancellationToken ct)
    {
        var ports = new List<int>();
        foreach (var sentinel in Sentinels)
        {
            ports.Add(await PortAsync(sentinel, ct).ConfigureAwait(false));
        }
        var operatorUser = users[RedisAcl.OperatorUser];
        var password = await operatorUser.Password.GetValueAsync(ct).ConfigureAwait(false);
        return await SentinelPrimaryLookup.CurrentPrimaryPortAsync(ports, RedisAcl.OperatorUser, password!, ct).ConfigureAwait(false);
    }

    /// <summary>Announced address and the settings every node shares (any node may become the primary).</summary>
    public void AddArguments(IList<object> args, EndpointReference self)
    {
        args.Add("--replica-announce-ip");
        args.Add(Host);
        args.Add("--replica-announce-port");
        args.Add(self.Property(EndpointProperty.Port));
        foreach (var arg in ha.ReplicationArguments())
        {
            args.Add(arg);
        }
    }

    public static async Task<int> PortAsync(EndpointReference endpoint, CancellationToken ct)
    {
        var text = await endpoint.Property(EndpointProperty.Port).GetValueAsync(ct).ConfigureAwait(false);
        return int.Parse(text!, CultureInfo.InvariantCulture);
    }

    /// <summary>A value in a Redis configuration file: double-quoted, with backslash and quote escaped.</summary>
    public static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
