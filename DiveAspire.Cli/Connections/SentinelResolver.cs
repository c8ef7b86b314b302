using DiveAspire.Cli.AppState;
using DiveAspire.Cli.Operations;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Connections;

/// <summary>
/// The HA revocation store (<see cref="BlacklistHighAvailability"/>) as the CLI reaches it: the Sentinels at their
/// planned ports and the data nodes, all with the shared store's users (Sentinels have the same ones). Tests move them
/// with <c>--sentinels</c> / <c>DIVE_REDIS_SENTINELS_BLACKLIST</c> (the variable <see cref="SentinelPrimaryResolver"/> reads
/// too) and <c>DIVE_BLACKLIST_NODES</c> (host:port lists in
/// topology order).
/// </summary>
public static class SentinelResolver
{
    public const string SentinelsVariable = SentinelPrimaryResolver.SentinelsVariable;
    public const string NodesVariable = "DIVE_BLACKLIST_NODES";
    /// <summary>true/false: whether `dive redis health blacklist` checks replication and quorum (default: whether the running AppHost runs Sentinels).</summary>
    public const string HighAvailabilityVariable = "DIVE_BLACKLIST_HA";

    public static SentinelSetup Resolve(string? sentinels = null, SecretsSource secrets = SecretsSource.Local)
    {
        var ha = BlacklistHighAvailability.Default;
        var sentinelEndpoints = Endpoints(sentinels, "--sentinels", SentinelsVariable, ha.Sentinels.Count);
        var nodeEndpoints = Endpoints(null, NodesVariable, NodesVariable, ha.DataNodes.Count);
        var sentinelTargets = ha.Sentinels.Select((s, i) =>
            Target(ha.InitialPrimary with { ResourceName = s.ResourceName, HostPort = s.HostPort }, sentinelEndpoints?[i], secrets)).ToList();
        var nodeTargets = ha.DataNodes.Select((n, i) => Target(n, nodeEndpoints?[i], secrets)).ToList();
        return new SentinelSetup(BlacklistHighAvailability.ServiceName, BlacklistHighAvailability.Quorum, ha.DataNodes.Count - 1,
            ha.MinReplicasMaxLag, sentinelTargets, nodeTargets);
    }

    /// <summary>
    /// Whether the shared store runs with HA: <c>DIVE_BLACKLIST_HA</c> when set, else whether the running AppHost (its
    /// state file, see `dive ps`) runs the first Sentinel.
    /// </summary>
    public static bool HighAvailabilityOn()
    {
        if (Environment.GetEnvironmentVariable(HighAvailabilityVariable) is { Length: > 0 } text)
        {
            return text.Trim().ToLowerInvariant() switch
            {
                "true" or "1" or "yes" => true,
                "false" or "0" or "no" => false,
                _ => throw new CliException($"{HighAvailabilityVariable} must be true or false (got '{text}').", ExitCodes.Usage),
            };
        }
        var state = AppHostState.Read(AppHostState.DefaultPath());
        return state?.Runs(BlacklistHighAvailability.Default.Sentinels[0].ResourceName) == true;
    }

    /// <summary>A node at its planned port (or <paramref name="endpoint"/>), as operator; admin on demand (failover).</summary>
    private static RedisTarget Target(RedisStoreSpec spec, string? endpoint, SecretsSource secrets)
    {
        var host = ConnectionResolver.LocalHost;
        var port = spec.HostPort;
        if (endpoint is not null)
        {
            (host, port) = EndpointOverride.Parse(endpoint, "a Sentinel or node endpoint");
        }
        var (password, source) = PasswordResolver.Resolve(RedisAcl.Operator(spec), secrets);
        return new RedisTarget(spec, host, port, RedisAcl.OperatorUser, password, source)
        {
            Admin = () =>
            {
                var (adminPassword, adminSource) = PasswordResolver.Resolve(RedisAcl.Admin(spec), secrets);
                return new RedisTarget(spec, host, port, RedisAcl.AdminUser, adminPassword, adminSource);
            },
        };
    }

    private static string[]? Endpoints(string? option, string optionName, string variable, int expected)
    {
        var (text, source) = option is { Length: > 0 } ? (option, optionName)
            : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnv ? (fromEnv, variable)
            : (null, null);
        if (text is null)
        {
            return null;
        }
        var endpoints = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (endpoints.Length != expected)
        {
            throw new CliException($"{source} must list {expected} host:port endpoints separated by commas (got {endpoints.Length}).", ExitCodes.Usage);
        }
        foreach (var endpoint in endpoints)
        {
            EndpointOverride.Parse(endpoint, source!);
        }
        return endpoints;
    }
}
