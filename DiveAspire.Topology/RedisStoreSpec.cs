using System.Globalization;

namespace DiveAspire.Topology;

public enum RedisKind { Cache, TokenStore }

/// <summary>
/// Everything that defines one Redis server of the federation: its name, host port, secret and server
/// settings. The AppHost turns it into a container or a local process; the CLI uses it to connect.
/// </summary>
public sealed record RedisStoreSpec(
    string ResourceName,
    string Label,
    RedisKind Kind,
    int HostPort,
    string MaxMemory,
    string MaxMemoryPolicy,
    string AppendFsync,
    IReadOnlyList<RdbSavePoint> SavePoints,
    int TcpKeepAlive)
{
    public const string BlacklistLabel = "blacklist";

    public string TypeLabel => Kind == RedisKind.Cache ? "cache" : "token-store";
    public string PasswordParameterName => $"redis-password-{Label.ToLowerInvariant()}";
    public string PasswordEnvironmentVariable => $"REDIS_PASSWORD_{Label.ToUpperInvariant()}";
    public string GcpSecretName => $"dive-v3-redis-{Label.ToLowerInvariant()}";

    public static readonly IReadOnlyList<RdbSavePoint> DefaultSavePoints =
        [new(900, 1), new(300, 10), new(60, 10000)];

    /// <summary>The server settings as redis-server command-line options (no password, port, bind or dir).</summary>
    public IReadOnlyList<string> ServerArguments() =>
    [
        "--appendonly", "yes",
        "--appendfsync", AppendFsync,
        "--maxmemory", MaxMemory,
        "--maxmemory-policy", MaxMemoryPolicy,
        "--save", string.Join(' ', SavePoints.Select(s => s.ToString())),
        "--tcp-keepalive", TcpKeepAlive.ToString(CultureInfo.InvariantCulture),
    ];

    public static RedisStoreSpec ForInstance(InstanceDefinition instance)
    {
        var hub = instance.Role == InstanceRole.Hub;
        return new RedisStoreSpec(
            instance.RedisResourceName,
            instance.Code,
            RedisKind.Cache,
            PortPlan.Redis(instance.Country),
            instance.Redis.MaxMemory ?? (hub ? "512mb" : "256mb"),
            instance.Redis.MaxMemoryPolicy ?? "allkeys-lru",
            "everysec",
            DefaultSavePoints,
            300);
    }

    /// <summary>
    /// The federation's revocation store: it must never evict (noeviction) and must not lose an acknowledged
    /// revocation on a crash (appendfsync always).
    /// </summary>
    public static RedisStoreSpec Blacklist { get; } = new(
        "redis-blacklist",
        BlacklistLabel,
        RedisKind.TokenStore,
        PortPlan.BlacklistRedis,
        "256mb",
        "noeviction",
        "always",
        DefaultSavePoints,
        300);
}

public sealed record RdbSavePoint(int Seconds, int Changes)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Seconds} {Changes}");
}
