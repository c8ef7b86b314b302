using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Cli;

/// <summary>
/// A redis-server of the test's own (random port, private directory) with the settings the test chooses, e.g. without
/// AOF or without a password. With a password it has DIVE's ACL: default off, users admin (<see cref="Password"/>) and
/// operator (<see cref="OperatorPassword"/>). Killed and its directory removed on Dispose.
/// </summary>
public sealed class PlainRedisServer : IDisposable
{
    private readonly Process _process;
    private readonly string _dir = Directory.CreateTempSubdirectory("dive-cli-redis-").FullName;

    public PlainRedisServer(bool password, bool aof, string maxMemory = "512mb", string policy = "allkeys-lru", DiveAspire.AppHost.Tls.ServerCertificate? tls = null)
    {
        Port = FreePort.Next();
        Password = password ? Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant() : null;
        OperatorPassword = password ? Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant() : null;
        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        string[] args =
        [
            "--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", _dir, "--save", "",
            "--appendonly", aof ? "yes" : "no", "--maxmemory", maxMemory, "--maxmemory-policy", policy,
        ];
        if (tls is not null)
        {
            // TLS only, as the AppHost runs the shared store beyond loopback (RedisTls.ServerArguments).
            args = ["--tls-port", Port.ToString(), "--port", "0", .. Aspire.Hosting.RedisTls.ServerArguments(tls), .. args[2..]];
        }
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        if (Password is not null)
        {
            // Through an ACL file named by a config file, as the AppHost does: no password in the process arguments.
            var acl = Path.Combine(_dir, "users.acl");
            File.WriteAllText(acl, RedisAcl.Render([(RedisAcl.Admin(RedisStoreSpec.Blacklist), Password), (RedisAcl.Operator(RedisStoreSpec.Blacklist), OperatorPassword!)]));
            var conf = Path.Combine(_dir, "secret.conf");
            File.WriteAllText(conf, $"aclfile \"{acl}\"\n");
            start.ArgumentList.Insert(0, conf);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitListening();
    }

    public int Port { get; }
    public string? Password { get; }
    public string? OperatorPassword { get; }
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>A backend's connection string to it as the AppHost writes one (user, password, the ACL client options), as admin.</summary>
    public string BackendConnectionString => $"{Endpoint},user={RedisAcl.AdminUser},password={Password}{RedisAcl.ClientOptions}";

    /// <summary>The test's own admin connection (CONFIG, CLIENT LIST ...); needs the password.</summary>
    public async Task<StackExchange.Redis.ConnectionMultiplexer> ConnectAdminAsync()
    {
        var options = StackExchange.Redis.ConfigurationOptions.Parse(Endpoint);
        options.User = RedisAcl.AdminUser;
        options.Password = Password ?? throw new InvalidOperationException("this redis-server has no password, hence no admin user");
        options.AllowAdmin = true;
        return await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>The redis-server's pid, to signal it (a hung Redis is a SIGSTOP).</summary>
    public int ProcessId => _process.Id;

    private void WaitListening() => LocalServerProcess.WaitListening(_process, "redis-server", "127.0.0.1", Port);

    public void Dispose() => LocalServerProcess.Stop(_process, _dir);
}
