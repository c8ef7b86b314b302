using System.Net;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Tests.Security;
using StackExchange.Redis;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// Issue 16: in the process runtime a backend's Redis connections reach redis-server itself, not the orchestrator's
/// TCP proxy (which copied every command through one more process). Redis's own <c>CLIENT INFO</c> tells: its local
/// address (<c>laddr</c>) is the port the client connected to only when nothing sits in between; through the proxy it
/// is the hidden target port the proxy forwards to.
/// </summary>
public static class DirectListener
{
    public static int PortOf(EndPoint endpoint) => endpoint switch
    {
        DnsEndPoint dns => dns.Port,
        IPEndPoint ip => ip.Port,
        _ => throw new InvalidOperationException($"unexpected endpoint {endpoint}"),
    };

    /// <summary>The port redis-server (or a Sentinel) sees this connection arrive on: <c>laddr</c> of CLIENT INFO.</summary>
    public static async Task<int> LocalPortSeenByServerAsync(IServer server)
    {
        var info = (string?)await server.ExecuteAsync("CLIENT", "INFO") ?? "";
        var laddr = info.Split(' ').SingleOrDefault(f => f.StartsWith("laddr=", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no laddr in CLIENT INFO: {info}");
        return int.Parse(laddr[(laddr.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The same for a Sentinel, spoken in plain RESP: StackExchange.Redis's Sentinel connections only send the commands
    /// of its Sentinel command map, which has no CLIENT.
    /// </summary>
    public static async Task<int> SentinelLocalPortAsync(int port, string user, string password)
    {
        using var client = new System.Net.Sockets.TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        await stream.WriteAsync(Resp("AUTH", user, password).Concat(Resp("CLIENT", "INFO")).ToArray(), timeout.Token);
        Assert.Equal("+OK", await reader.ReadLineAsync(timeout.Token));
        var header = await reader.ReadLineAsync(timeout.Token) ?? "";
        Assert.StartsWith("$", header); // a bulk string: the CLIENT INFO line
        var info = await reader.ReadLineAsync(timeout.Token) ?? "";
        var laddr = info.Split(' ').Single(f => f.StartsWith("laddr=", StringComparison.Ordinal));
        return int.Parse(laddr[(laddr.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static byte[] Resp(params string[] words) =>
        System.Text.Encoding.UTF8.GetBytes($"*{words.Length}\r\n" + string.Concat(words.Select(w => $"${System.Text.Encoding.UTF8.GetByteCount(w)}\r\n{w}\r\n")));
}

[Collection(FederationCollection.Name)]
public sealed class RedisDirectListenerTests(FederationFixture federation)
{
    [Theory]
    [InlineData("usa", "cache")]
    [InlineData("rou", "cache")]
    [InlineData("rou", "blacklist")]
    public async Task A_backends_redis_connection_reaches_redis_server_itself_not_the_orchestrators_proxy(string code, string store)
    {
        var connectionString = await RedisClientCredentials.BackendConnectionStringAsync(federation, code, store);
        var port = DirectListener.PortOf(Assert.Single(ConfigurationOptions.Parse(connectionString).EndPoints));
        await using var connection = await RedisClientCredentials.ConnectAsync(connectionString);

        Assert.Equal(port, await DirectListener.LocalPortSeenByServerAsync(connection.GetServers()[0]));
    }
}

[Collection(BlacklistHaCollection.Name)]
public sealed class HaDirectListenerTests(BlacklistHaFixture federation)
{
    [Fact]
    public async Task Every_data_node_and_Sentinel_listens_on_the_port_it_is_reached_at()
    {
        foreach (var node in federation.DataNodeNames)
        {
            var (_, port) = await federation.RedisEndpointAsync(node);
            await using var connection = await federation.ConnectAsync(node);
            Assert.Equal(port, await DirectListener.LocalPortSeenByServerAsync(connection.GetServers()[0]));
        }
        // The Sentinels a backend is given (its ConnectionStrings__blacklist lists them).
        var backendOptions = ConfigurationOptions.Parse(await RedisClientCredentials.BackendConnectionStringAsync(federation, "rou", "blacklist"));
        Assert.Equal(3, backendOptions.EndPoints.Count);
        foreach (var sentinel in backendOptions.EndPoints)
        {
            var port = DirectListener.PortOf(sentinel);
            Assert.Equal(port, await DirectListener.SentinelLocalPortAsync(port, backendOptions.User!, backendOptions.Password!));
        }
    }
}
