namespace DiveAspire.Cli.Operations;

/// <summary>
/// What one Sentinel said about the service (or why it said nothing), with how many replicas and other Sentinels it
/// knows (SENTINEL REPLICAS / SENTINELS): one that knows fewer than planned cannot promote or elect in a failover.
/// </summary>
public sealed record SentinelView(
    string Name,
    string Endpoint,
    bool Reachable,
    string? Primary = null,
    bool? QuorumReachable = null,
    string? QuorumMessage = null,
    string? Flags = null,
    string? Error = null,
    int? KnownReplicas = null,
    int? KnownSentinels = null);

/// <summary>One replica as the Sentinels and the primary see it. Lag: seconds since its last ack (primary's INFO), bytes behind the primary's offset.</summary>
public sealed record ReplicaStatus(
    string Name,
    string Endpoint,
    string Flags,
    string? LinkStatus,
    long? OffsetBytes,
    long? LagBytes,
    long? LagSeconds,
    bool Online);

public sealed record PrimaryStatus(string Name, string Endpoint, string Flags, bool Reachable, long? ReplicationOffset, long? ConnectedReplicas, string? Error);

/// <summary>
/// The last failover as Sentinel knows it: the configuration epoch counts failovers since the store was created (0:
/// never), and the primary has reported its role for <see cref="PrimarySinceSeconds"/> (since its promotion, or since
/// the Sentinel started watching it).
/// </summary>
public sealed record FailoverHistory(long ConfigEpoch, long? PrimarySinceSeconds)
{
    public bool EverFailedOver => ConfigEpoch > 0;
}

/// <summary><c>dive redis sentinel status</c>: the primary, its replicas, every Sentinel, the quorum and the last failover.</summary>
public sealed record SentinelStatus(
    string Service,
    int Quorum,
    PrimaryStatus? Primary,
    IReadOnlyList<ReplicaStatus> Replicas,
    IReadOnlyList<SentinelView> Sentinels,
    bool QuorumReachable,
    string QuorumMessage,
    FailoverHistory? LastFailover,
    IReadOnlyList<string> Problems)
{
    public int SentinelsReachable => Sentinels.Count(s => s.Reachable);
    public bool Healthy => Problems.Count == 0;
}

/// <summary><c>dive redis sentinel failover</c>: the primary before and after, and how long the Sentinels took.</summary>
public sealed record FailoverResult(string Service, string AskedSentinel, string OldPrimary, string NewPrimary, double Seconds, bool DryRun);
