using System.Net.Sockets;
using DiveAspire.Cli.Connections;
using StackExchange.Redis;

namespace DiveAspire.Cli.Operations;

/// <summary>
/// One Sentinel, asked directly (not as a way to find the primary): SENTINEL commands on the server of a connection in
/// Sentinel mode, as the target's ACL user. Failures become one line like <see cref="RedisConnector"/>'s.
/// </summary>
public static class SentinelConnector
{
    public static async Task<(ConnectionMultiplexer Connection, IServer Server)> ConnectAsync(RedisTarget sentinel, CancellationToken ct = default)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { { sentinel.Host, sentinel.Port } },
            User = sentinel.User,
            Password = sentinel.Password,
            CommandMap = CommandMap.Sentinel,
            TieBreaker = "",
            ConfigurationChannel = "",
            AllowAdmin = true,
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            ConnectTimeout = (int)RedisConnector.ConnectTimeout.TotalMilliseconds,
            SyncTimeout = 5000,
            AsyncTimeout = 5000,
            ClientName = RedisConnector.ClientName,
        };
        ConnectionMultiplexer? connection = null;
        try
        {
            connection = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(ct).ConfigureAwait(false);
            var server = connection.GetServer(connection.GetEndPoints()[0]);
            // The handshake can succeed while commands are refused (no or a wrong password): ask once to know.
            await server.PingAsync().WaitAsync(ct).ConfigureAwait(false);
            return (connection, server);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or SocketException)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            throw RedisConnector.Describe(sentinel, ex);
        }
    }

    /// <summary>
    /// A SENTINEL sub-command's reply, every Redis error as one line naming the Sentinel: its own refusal as it says it
    /// (NOGOODSLAVE, INPROG, no such master), a lost connection, NOPERM or a bad password like <see cref="RedisConnector"/>.
    /// </summary>
    public static async Task<RedisResult> SentinelAsync(IServer server, RedisTarget sentinel, params object[] args)
    {
        try
        {
            return await server.ExecuteAsync("SENTINEL", args).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (!ex.Message.Contains("NOPERM", StringComparison.Ordinal) && !ex.Message.Contains("NOAUTH", StringComparison.Ordinal))
        {
            throw new CliException($"{sentinel} refused SENTINEL {args[0]}: {ex.Message}");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw RedisConnector.Describe(sentinel, ex);
        }
    }

    /// <summary>A flat key/value reply (SENTINEL MASTER, one entry of SENTINEL REPLICAS) as a dictionary.</summary>
    public static Dictionary<string, string> Fields(RedisResult reply)
    {
        var items = (RedisResult[])reply!;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < items.Length; i += 2)
        {
            fields[items[i].ToString()] = items[i + 1].ToString();
        }
        return fields;
    }

    public static IReadOnlyList<Dictionary<string, string>> List(RedisResult reply) =>
        ((RedisResult[])reply!).Select(Fields).ToList();
}
