using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.AppHost;

public enum DiveRuntime { Auto, Container, Process }

/// <summary>The <c>Dive:*</c> settings of one AppHost run (appsettings, environment, or command-line arguments).</summary>
public sealed record DiveOptions(
    DiveRuntime RequestedRuntime,
    string? Spokes,
    string InstancesPath,
    string DataPath,
    bool Monitoring,
    int BackendReplicas,
    string RedisServerPath,
    string VolumePrefix,
    bool Keycloak)
{
    /// <summary>Per-backend replica counts from <c>Dive:Replicas:&lt;code&gt;=N</c>; overrides <see cref="BackendReplicas"/> for that backend.</summary>
    public IReadOnlyDictionary<string, int> ReplicasPerBackend { get; init; } = new Dictionary<string, int>();

    /// <summary><c>Dive:BackendLaunch</c>: auto (default), executable or project; see <see cref="AppHost.BackendLaunch"/>.</summary>
    public BackendLaunchMode BackendLaunch { get; init; }

    /// <summary><c>Dive:ProcessWatchers</c>: keep DCP's per-process watcher processes (default false; see <see cref="Aspire.Hosting.OrchestratorSettings"/>).</summary>
    public bool ProcessWatchers { get; init; }

    /// <summary><c>Dive:RedisSentinel</c>: the Sentinel binary of the process runtime (Debian's <c>redis-sentinel</c>).</summary>
    public string RedisSentinelPath { get; init; } = "redis-sentinel";

    /// <summary><c>Dive:Blacklist:HighAvailability</c> (<c>./dive up --ha</c>): the shared store as primary, replicas and Sentinels.</summary>
    public bool HighAvailability { get; init; }

    /// <summary>
    /// <c>Dive:Redis:BindAddress</c>: the address every Redis (and Sentinel) of the process runtime listens on besides
    /// 127.0.0.1, so that spokes joining from other machines reach the shared store (default 127.0.0.1 only; 0.0.0.0 for
    /// every interface). protected-mode stays on and every user needs its password whatever the address.
    /// </summary>
    public string RedisBindAddress { get; init; } = Loopback;

    /// <summary><c>Dive:Backend:BindAddress</c>: where the backends' planned ports listen (default loopback), e.g. for a joined spoke's peer calls.</summary>
    public string BackendBindAddress { get; init; } = Loopback;

    public const string Loopback = "127.0.0.1";

    /// <summary>An IDE (Visual Studio, VS Code) runs this AppHost and attaches its debugger to project resources.</summary>
    public bool IdeSession { get; init; }

    /// <summary>
    /// Backends kept behind the orchestrator's proxy although they run one replica (<c>Dive:Proxied:&lt;code&gt;=true</c>;
    /// the bench's baseline for the proxy's cost). A backend with replicas is always proxied: the proxy spreads the requests.
    /// </summary>
    public IReadOnlySet<string> ProxiedBackends { get; init; } = new HashSet<string>();

    /// <summary>The orchestrator's proxy sits in front of a backend only when it has replicas to spread requests over.</summary>
    public bool ProxiedFor(string code) => ReplicasFor(code) > 1 || ProxiedBackends.Contains(code.ToUpperInvariant());

    public int ReplicasFor(string code) => ReplicasPerBackend.TryGetValue(code.ToUpperInvariant(), out var n) ? n : BackendReplicas;

    public static DiveOptions From(IConfiguration config, string appHostDirectory)
    {
        var section = config.GetSection("Dive");
        var runtimeText = section["Runtime"] ?? "auto";
        if (!Enum.TryParse<DiveRuntime>(runtimeText, ignoreCase: true, out var runtime))
        {
            throw new TopologyException($"Dive:Runtime must be auto, container or process (got '{runtimeText}').");
        }

        var instances = section["InstancesPath"] is { Length: > 0 } path
            ? Path.GetFullPath(path)
            : DiveTopology.FindInstancesDirectory(appHostDirectory);
        var repoRoot = Path.GetDirectoryName(instances)!;
        var data = section["DataPath"] is { Length: > 0 } dataPath
            ? Path.GetFullPath(dataPath)
            : Path.Combine(repoRoot, ".dive", "data");

        var replicas = ParseReplicas(section["Replicas"] ?? "1", "Dive:Replicas");
        var perBackend = section.GetSection("Replicas").GetChildren()
            .ToDictionary(c => c.Key.ToUpperInvariant(), c => ParseReplicas(c.Value ?? "", $"Dive:Replicas:{c.Key}"));

        return new DiveOptions(
            runtime,
            section["Spokes"],
            instances,
            data,
            ParseBool(section["Monitoring"], "Dive:Monitoring", defaultValue: true),
            replicas,
            section["RedisServer"] is { Length: > 0 } server ? server : "redis-server",
            ParseVolumePrefix(section["VolumePrefix"]),
            ParseBool(section["Keycloak"], "Dive:Keycloak", defaultValue: true))
        {
            ReplicasPerBackend = perBackend,
            ProxiedBackends = section.GetSection("Proxied").GetChildren()
                .Where(c => ParseBool(c.Value, $"Dive:Proxied:{c.Key}", defaultValue: false))
                .Select(c => c.Key.ToUpperInvariant()).ToHashSet(),
            BackendLaunch = AppHost.BackendLaunch.Parse(section["BackendLaunch"]),
            ProcessWatchers = ParseBool(section["ProcessWatchers"], "Dive:ProcessWatchers", defaultValue: false),
            RedisSentinelPath = section["RedisSentinel"] is { Length: > 0 } sentinel ? sentinel : "redis-sentinel",
            HighAvailability = ParseBool(config[BlacklistHighAvailability.ConfigurationKey], BlacklistHighAvailability.ConfigurationKey, defaultValue: false),
            IdeSession = !string.IsNullOrEmpty(config[AppHost.BackendLaunch.IdeSessionVariable]),
            RedisBindAddress = ParseBindAddress(section["Redis:BindAddress"], "Dive:Redis:BindAddress"),
            BackendBindAddress = ParseBindAddress(section["Backend:BindAddress"], "Dive:Backend:BindAddress"),
        };
    }

    /// <summary>
    /// Container runtime: the named volumes are &lt;prefix&gt;-redis-&lt;label&gt;-data. Tests use their own prefix so
    /// they never read or write the volumes of a developer's <c>./dive up</c>.
    /// </summary>
    private static string ParseVolumePrefix(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "dive";
        }
        return System.Text.RegularExpressions.Regex.IsMatch(text, "^[a-z0-9][a-z0-9_.-]{0,40}$")
            ? text
            : throw new TopologyException($"Dive:VolumePrefix must be lower-case letters, digits, '.', '_' or '-' (at most 41, got '{text}').");
    }

    /// <summary>An IP address of this machine (no host name: Redis's bind and DCP's proxy need an address).</summary>
    private static string ParseBindAddress(string? text, string key) =>
        string.IsNullOrWhiteSpace(text) ? Loopback
        : StrictIpAddress.TryParse(text.Trim(), out var address) ? address.ToString()
        : throw new TopologyException($"{key} must be an IP address of this machine ({StrictIpAddress.Expected}; 0.0.0.0 for every interface), got '{text}'.");

    private static int ParseReplicas(string text, string key) =>
        int.TryParse(text, out var replicas) && replicas is >= 1 and <= 8
            ? replicas
            : throw new TopologyException($"{key} must be a whole number from 1 to 8 (got '{text}').");

    private static bool ParseBool(string? text, string key, bool defaultValue) =>
        text is null ? defaultValue
        : bool.TryParse(text, out var value) ? value
        : throw new TopologyException($"{key} must be true or false (got '{text}').");
}
