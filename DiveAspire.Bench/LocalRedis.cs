using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using StackExchange.Redis;

namespace DiveAspire.Bench;

/// <summary>A throwaway redis-server on a free loopback port, for baselines; killed on dispose.</summary>
public sealed class LocalRedis : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private LocalRedis(Process process, string dir, int port, string password)
    {
        _process = process;
        _dir = dir;
        Port = port;
        Password = password;
        _stop = new StopOnce(StopAsync);
    }

    public int Port { get; }
    public string Password { get; }
    public int Pid => _process.Id;

    public static async Task<LocalRedis> StartAsync()
    {
        var port = FreePort();
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var dir = Directory.CreateTempSubdirectory("dive-bench-redis-").FullName;
        var conf = Path.Combine(dir, "secret.conf");
        File.WriteAllText(conf, $"requirepass {password}\n");
        File.SetUnixFileMode(conf, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var process = Process.Start(new ProcessStartInfo("redis-server", [conf, "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start");
        var redis = new LocalRedis(process, dir, port, password);
        StopOnSignal.Register(redis);
        for (var i = 0; i < 100; i++)
        {
            try
            {
                await using var c = await redis.ConnectAsync();
                await c.GetDatabase().PingAsync();
                return redis;
            }
            catch (RedisConnectionException)
            {
                await Task.Delay(50);
            }
        }
        await redis.DisposeAsync();
        throw new InvalidOperationException("redis-server did not answer within 5 s");
    }

    public Task<ConnectionMultiplexer> ConnectAsync() =>
        ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { { "127.0.0.1", Port } }, Password = Password, AbortOnConnectFail = true });

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private readonly StopOnce _stop;

    public ValueTask DisposeAsync() => _stop.RunAsync();

    private async Task StopAsync()
    {
        StopOnSignal.Unregister(this);
        await _process.KillAndDisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
