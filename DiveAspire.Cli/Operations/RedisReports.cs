namespace DiveAspire.Cli.Operations;

/// <summary>One row of <c>status</c> / <c>status-all</c>.</summary>
public sealed record RedisStatus(
    string Name,
    string Label,
    string Endpoint,
    bool Reachable,
    string? Version = null,
    string? Role = null,
    long? UptimeSeconds = null,
    long? UsedMemoryBytes = null,
    long? MaxMemoryBytes = null,
    long? Clients = null,
    long? MaxClients = null,
    long? Keys = null,
    bool? Aof = null,
    string? EvictionPolicy = null,
    string? LastError = null,
    string? User = null);

public sealed record HealthCheck(string Name, bool Passed, string Detail);

public sealed record RedisHealth(string Name, string Endpoint, IReadOnlyList<HealthCheck> Checks)
{
    public int Passed => Checks.Count(c => c.Passed);
    public int Total => Checks.Count;
    public bool Healthy => Passed == Total;
}

public sealed record RedisStats(
    string Name,
    string Endpoint,
    long ConnectedClients,
    long BlockedClients,
    long TotalConnectionsReceived,
    long RejectedConnections,
    long TotalCommandsProcessed,
    long OpsPerSecond,
    long KeyspaceHits,
    long KeyspaceMisses,
    double? HitRatePercent,
    long ExpiredKeys,
    long EvictedKeys,
    long Keys,
    RedisMemory Memory);

public sealed record RedisMemory(
    long UsedBytes,
    long RssBytes,
    long PeakBytes,
    long DatasetBytes,
    long OverheadBytes,
    long MaxBytes,
    double FragmentationRatio,
    string EvictionPolicy);

public sealed record FlushResult(string Name, string Endpoint, long KeysBefore, long KeysAfter, bool DryRun);

public sealed record BackendSubscription(string Instance, string ClientName, bool Connected, bool Subscribed);

public sealed record BlacklistStatus(
    string Name,
    string Endpoint,
    bool Reachable,
    long RevokedTokens,
    long RevokedUsers,
    IReadOnlyDictionary<string, long> Subscribers,
    IReadOnlyList<BackendSubscription> Backends,
    IReadOnlyList<ImpostorClient> Impostors);

/// <summary>A client named after a backend's connection but logged in as another user: not counted as that backend.</summary>
public sealed record ImpostorClient(string ClientName, string User, string Address);

public sealed record BlacklistClearResult(string Name, string Endpoint, long TokensDeleted, long UsersDeleted, bool DryRun);
