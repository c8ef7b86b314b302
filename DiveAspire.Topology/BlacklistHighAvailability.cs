using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace DiveAspire.Topology;

/// <summary>
/// The shared revocation store as one primary, two replicas and three Sentinels (issue 14), on
/// <c>Dive:Blacklist:HighAvailability=true</c> (<c>./dive up --ha</c>; always in published manifests). The AppHost, the
/// CLI, monitoring and the Kubernetes publisher all read the names, ports and timings from here.
/// </summary>
public sealed class BlacklistHighAvailability
{
    /// <summary>The configuration switch; without it the store is the single <c>redis-blacklist</c>.</summary>
    public const string ConfigurationKey = "Dive:Blacklist:HighAvailability";

    /// <summary>The Sentinel master name: clients connect with <c>serviceName=dive-blacklist</c>.</summary>
    public const string ServiceName = "dive-blacklist";

    /// <summary>Sentinels that must agree the primary is down before a failover (of <see cref="Sentinels"/>, 3).</summary>
    public const int Quorum = 2;

    public static BlacklistHighAvailability Default { get; } = new();

    private BlacklistHighAvailability()
    {
        var primary = RedisStoreSpec.Blacklist;
        DataNodes =
        [
            primary,
            primary with { ResourceName = $"{primary.ResourceName}-replica-1", HostPort = PortPlan.BlacklistReplica1 },
            primary with { ResourceName = $"{primary.ResourceName}-replica-2", HostPort = PortPlan.BlacklistReplica2 },
        ];
        Sentinels =
        [
            new($"{primary.ResourceName}-sentinel-1", PortPlan.BlacklistSentinel1),
            new($"{primary.ResourceName}-sentinel-2", PortPlan.BlacklistSentinel2),
            new($"{primary.ResourceName}-sentinel-3", PortPlan.BlacklistSentinel3),
        ];
    }

    /// <summary>The dashboard groups every node under this resource (the initial primary, <c>redis-blacklist</c>).</summary>
    public string ParentResourceName => RedisStoreSpec.Blacklist.ResourceName;

    /// <summary>
    /// The three data nodes, the initial primary first. Every node has the shared store's settings (noeviction,
    /// appendfsync always) and its label <c>blacklist</c>: one set of ACL users and passwords for all of them.
    /// </summary>
    public IReadOnlyList<RedisStoreSpec> DataNodes { get; }

    public RedisStoreSpec InitialPrimary => DataNodes[0];
    public IEnumerable<RedisStoreSpec> InitialReplicas => DataNodes.Skip(1);
    public IReadOnlyList<SentinelNode> Sentinels { get; }

    /// <summary>No reply for this long: a Sentinel thinks the primary is down (SDOWN); <see cref="Quorum"/> agreeing is ODOWN.</summary>
    public TimeSpan DownAfter { get; init; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>
    /// Sentinel's failover-timeout: an unfinished failover is abandoned after it, and a second one for the same primary
    /// (e.g. after a split leader vote) waits twice as long. Short, so that a failed attempt is retried within seconds.
    /// </summary>
    public TimeSpan FailoverTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Replicas resynchronised with a new primary at once (all: there are two).</summary>
    public int ParallelSyncs { get; init; } = 2;

    /// <summary>A primary accepts writes only while this many replicas are connected and acknowledging (split-brain guard).</summary>
    public int MinReplicasToWrite { get; init; } = 1;

    /// <summary>A replica whose last acknowledgement is older than this does not count for <see cref="MinReplicasToWrite"/>.</summary>
    public TimeSpan MinReplicasMaxLag { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a backend's <c>WAIT 1</c> after a revocation waits for a replica; no replica by then is a 503.</summary>
    public TimeSpan ReplicaAcknowledgementTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Every resource name of the topology: data nodes, then Sentinels.</summary>
    public IEnumerable<string> ResourceNames => DataNodes.Select(n => n.ResourceName).Concat(Sentinels.Select(s => s.ResourceName));

    /// <summary>The replication settings of every data node, as redis-server options (the same on each: any may become primary).</summary>
    public IReadOnlyList<string> ReplicationArguments() =>
    [
        "--min-replicas-to-write", MinReplicasToWrite.ToString(CultureInfo.InvariantCulture),
        "--min-replicas-max-lag", Seconds(MinReplicasMaxLag),
        // A new primary syncs a replica that needs a full copy at once rather than waiting 5 s for more replicas.
        "--repl-diskless-sync-delay", "0",
    ];

    /// <summary>
    /// The lines of a Sentinel's configuration for the store, monitored at <paramref name="primaryHost"/>:<paramref name="primaryPort"/>
    /// (no authentication lines: those hold a password and are written by whoever writes the file).
    /// </summary>
    public IReadOnlyList<string> SentinelMonitorLines(string primaryHost, int primaryPort) =>
    [
        string.Create(CultureInfo.InvariantCulture, $"sentinel monitor {ServiceName} {primaryHost} {primaryPort} {Quorum}"),
        string.Create(CultureInfo.InvariantCulture, $"sentinel down-after-milliseconds {ServiceName} {(long)DownAfter.TotalMilliseconds}"),
        string.Create(CultureInfo.InvariantCulture, $"sentinel failover-timeout {ServiceName} {(long)FailoverTimeout.TotalMilliseconds}"),
        string.Create(CultureInfo.InvariantCulture, $"sentinel parallel-syncs {ServiceName} {ParallelSyncs}"),
    ];

    /// <summary>
    /// A Sentinel's run id, fixed (40 hex digits from its resource name): its peers can be told it before it says hello,
    /// and a restarted Sentinel is the same peer again rather than one more voter its peers wait for.
    /// </summary>
    public static string SentinelId(SentinelNode sentinel) =>
        Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(sentinel.ResourceName)));

    /// <summary>
    /// The lines after <see cref="SentinelMonitorLines"/> that make a Sentinel know the whole topology from its start:
    /// its own id, every other data node as a replica and every other Sentinel. Left to discover them, a Sentinel learns
    /// the replicas from the primary's INFO (every 10 s) and its peers from hello messages (every 2 s); a primary lost
    /// before that leaves Sentinels that know no replica to promote or too few peers to elect a leader, and the failover
    /// waits for retries (2 x failover-timeout each). <paramref name="dataNodePorts"/> and <paramref name="sentinelPorts"/>
    /// are the announced ports (the monitored primary's among them is skipped).
    /// </summary>
    public IReadOnlyList<string> SentinelDiscoveryLines(SentinelNode self, string host, int primaryPort, IEnumerable<int> dataNodePorts,
        IReadOnlyDictionary<string, int> sentinelPorts) =>
    [
        $"sentinel myid {SentinelId(self)}",
        .. dataNodePorts.Where(port => port != primaryPort)
            .Select(port => string.Create(CultureInfo.InvariantCulture, $"sentinel known-replica {ServiceName} {host} {port}")),
        .. Sentinels.Where(s => s != self && sentinelPorts.ContainsKey(s.ResourceName))
            .Select(s => string.Create(CultureInfo.InvariantCulture, $"sentinel known-sentinel {ServiceName} {host} {sentinelPorts[s.ResourceName]} {SentinelId(s)}")),
    ];

    /// <summary>
    /// How a Sentinel logs in to the data nodes (as <paramref name="user"/>) and to the other Sentinels; the caller quotes
    /// <paramref name="password"/> as its file needs. These lines hold the password: only in a private file or a Secret.
    /// </summary>
    public static IReadOnlyList<string> SentinelAuthenticationLines(string user, string password) =>
    [
        $"sentinel auth-user {ServiceName} {user}",
        $"sentinel auth-pass {ServiceName} {password}",
        $"sentinel sentinel-user {user}",
        $"sentinel sentinel-pass {password}",
    ];

    /// <summary>A data node's own replication arguments: the address it announces and, unless it is the initial primary, whom it replicates.</summary>
    public IReadOnlyList<string> NodeArguments(RedisStoreSpec node, string announceHost, string announcePort, string primaryHost, string primaryPort) =>
    [
        "--replica-announce-ip", announceHost,
        "--replica-announce-port", announcePort,
        .. node == InitialPrimary ? [] : new[] { "--replicaof", primaryHost, primaryPort },
    ];

    /// <summary>
    /// What clients give StackExchange.Redis: every Sentinel's address and the service name, e.g.
    /// <c>h1:26379,h2:26380,h3:26381,serviceName=dive-blacklist</c> (user, password and options follow).
    /// </summary>
    public string SentinelConnectionPrefix(IEnumerable<string> sentinelHostPorts) =>
        string.Join(',', sentinelHostPorts) + $",serviceName={ServiceName}";

    /// <summary>The host ports the topology binds besides <c>redis-blacklist</c>'s own (already in the plan).</summary>
    public IEnumerable<PortAllocation> AdditionalPorts() =>
        DataNodes.Skip(1).Select(n => new PortAllocation("shared", n.ResourceName, n.HostPort))
            .Concat(Sentinels.Select(s => new PortAllocation("shared", s.ResourceName, s.HostPort)));

    private static string Seconds(TimeSpan span) => ((long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}

/// <summary>One Redis Sentinel of the shared store's HA topology.</summary>
public sealed record SentinelNode(string ResourceName, int HostPort);
