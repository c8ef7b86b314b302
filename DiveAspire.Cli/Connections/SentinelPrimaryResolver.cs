using System.Net;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Cli.Connections;

/// <summary>
/// With the highly available shared store (<c>./dive up --ha</c>) <c>redis-blacklist</c> may be a replica after a
/// failover: the CLI and the dashboard commands ask the Sentinels (the plan's 26379-26381, or
/// <c>DIVE_REDIS_SENTINELS_BLACKLIST=host:port,...</c>) which node is the primary. No Sentinel answering for
/// <c>dive-blacklist</c> means the single store: the caller keeps its address.
/// </summary>
public static class SentinelPrimaryResolver
{
    public const string SentinelsVariable = "DIVE_REDIS_SENTINELS_BLACKLIST";

    public static IReadOnlyList<(string Host, int Port)> Sentinels() =>
        Environment.GetEnvironmentVariable(SentinelsVariable) is { Length: > 0 } list
            ? [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(e => EndpointOverride.Parse(e, SentinelsVariable))]
            : [.. BlacklistHighAvailability.Default.Sentinels.Select(s => (ConnectionResolver.LocalHost, s.HostPort))];

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
