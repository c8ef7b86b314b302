using System.Net;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Cli.Connections;

/// <summary>
/// With the highly available shared store (<c>./dive up --ha</c>) <c>redis-blacklist</c> may be a replica after a
/// failover: the CLI and the dashboard commands ask the Sentinels (the plan's 26379-26381, or
/// <c>DIVE_REDIS_SENTINELS_BLACKLIST=host:port,...</c>) which node is the primary. No Sentinel answering for
/// <c>dive-blacklist</c> means the single store: the caller keeps its address.
/// Only when the store runs with HA (the running AppHost's Sentinels, <c>DIVE_BLACKLIST_HA</c>, or Sentinels named
/// explicitly): without it nothing of ours listens on the Sentinel ports, and whoever does would be sent a password.
/// The lookup always logs in as operator (never admin), and a primary that is not a planned data node is refused.
/// </summary>
public static class SentinelPrimaryResolver
{
    public const string SentinelsVariable = "DIVE_REDIS_SENTINELS_BLACKLIST";

    public static IReadOnlyList<(string Host, int Port)> Sentinels() =>
        Environment.GetEnvironmentVariable(SentinelsVariable) is { Length: > 0 } list
            ? [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(e => EndpointOverride.Parse(e, SentinelsVariable))]
            : [.. BlacklistHighAvailability.Default.Sentinels.Select(s => (ConnectionResolver.LocalHost, s.HostPort))];

    /// <summary>
    /// With HA on, the primary of the shared store <paramref name="spec"/> as its Sentinels name it (null when none answers);
    /// without HA, null without contacting anything.
    /// </summary>
    public static (string Host, int Port)? Primary(RedisStoreSpec spec, SecretsSource secrets)
    {
        var explicitSentinels = Environment.GetEnvironmentVariable(SentinelsVariable) is { Length: > 0 };
        if (!explicitSentinels && !SentinelResolver.HighAvailabilityOn())
        {
            return null;
        }
        var (password, _) = PasswordResolver.Resolve(RedisAcl.Operator(spec), secrets);
        if (password is null || Primary(RedisAcl.OperatorUser, password) is not { } primary)
        {
            return null;
        }
        var planned = SentinelResolver.Resolve(secrets: secrets).DataNodes;
        // Planned nodes at their planned ports; tests move them with DIVE_BLACKLIST_NODES or only name the Sentinels.
        if (!explicitSentinels || Environment.GetEnvironmentVariable(SentinelResolver.NodesVariable) is { Length: > 0 })
        {
            if (!planned.Any(n => n.Port == primary.Port && IsSameHost(n.Host, primary.Host)))
            {
                throw new CliException($"The Sentinels name {primary.Host}:{primary.Port} as the shared store's primary, which is not one of its nodes ({string.Join(", ", planned.Select(n => n.Endpoint))}); refusing to send it a password.");
            }
        }
        return primary;
    }

    private static bool IsSameHost(string planned, string reported) =>
        string.Equals(planned, reported, StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(reported, out var address) && IPAddress.IsLoopback(address) && planned is ConnectionResolver.LocalHost or "localhost");

    /// <summary>The primary's address as a Sentinel gives it, logging in as <paramref name="user"/>; null when none answers.</summary>
    public static (string Host, int Port)? Primary(string user, string password)
    {
        foreach (var (host, port) in Sentinels())
        {
            var options = new ConfigurationOptions
            {
                EndPoints = { { host, port } },
                User = user,
                Password = password,
                CommandMap = CommandMap.Sentinel,
                ConnectTimeout = 1000,
                SyncTimeout = 1000,
                AbortOnConnectFail = true,
                TieBreaker = "",
                ConfigurationChannel = "",
            };
            try
            {
                using var sentinel = ConnectionMultiplexer.SentinelConnect(options);
                switch (sentinel.GetServer(sentinel.GetEndPoints()[0]).SentinelGetMasterAddressByName(BlacklistHighAvailability.ServiceName))
                {
                    case IPEndPoint ip:
                        return (ip.Address.ToString(), ip.Port);
                    case DnsEndPoint dns:
                        return (dns.Host, dns.Port);
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Not running (the single store), or not ours: ask the next one.
            }
        }
        return null;
    }
}
