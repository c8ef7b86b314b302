using System.Net;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace Aspire.Hosting;

/// <summary>
/// Asks the running Sentinels which port the shared store's primary is on, so a node or Sentinel restarted after a
/// failover joins the current primary at once instead of the initial one. Null when no Sentinel answers (first start).
/// </summary>
internal static class SentinelPrimaryLookup
{
    public static async Task<int?> CurrentPrimaryPortAsync(IEnumerable<int> sentinelPorts, string user, string password, CancellationToken ct)
    {
        foreach (var port in sentinelPorts)
        {
            ct.ThrowIfCancellationRequested();
            var options = new ConfigurationOptions
            {
                EndPoints = { { IPAddress.Loopback, port } },
                User = user,
                Password = password,
                CommandMap = CommandMap.Sentinel,
                ConnectTimeout = 1000,
                SyncTimeout = 1000,
                AsyncTimeout = 1000,
                AbortOnConnectFail = true,
                TieBreaker = "",
                ConfigurationChannel = "",
            };
            try
            {
                await using var sentinel = await ConnectionMultiplexer.SentinelConnectAsync(options).ConfigureAwait(false);
                var primary = await sentinel.GetServer(IPAddress.Loopback, port)
                    .SentinelGetMasterAddressByNameAsync(BlacklistHighAvailability.ServiceName).ConfigureAwait(false);
                if (primary is IPEndPoint ip)
                {
                    return ip.Port;
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Not running yet (first start) or down: ask the next one.
            }
        }
        return null;
    }
}
