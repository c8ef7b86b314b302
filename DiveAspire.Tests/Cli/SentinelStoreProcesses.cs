using System.Diagnostics;
using System.Net.Sockets;
using DiveAspire.Cli;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Cli;

/// <summary>
/// The HA revocation store of the test's own: three Debian redis-server data nodes (the first the initial primary, two
/// replicas) and three redis-sentinel processes watching <see cref="BlacklistHighAvailability.ServiceName"/>, with the
/// Topology's settings and ACL users (<see cref="RedisAcl.Users"/>, <see cref="RedisAcl.SentinelUsers"/>), on free ports
/// in a private directory. Passwords live only in 0600 files there, never in arguments. Every process is killed and the
/// directory removed on Dispose, also when the start fails half-way.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SentinelStoreProcesses : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dive-sentinel-store-").FullName;
    private readonly List<Process?> _nodes = [];
    private readonly List<Process?> _sentinels = [];
    private readonly Func<RedisUser, RedisUser> _sentinelUser;

    public SentinelStoreProcesses() : this(null)
    {
    }

    /// <param name="secrets">The passwords of another store (a second deployment with the same credentials); else new ones.</param>
    /// <param name="sentinelUser">Changes a user of the Sentinels (its rules) before they start; else the Topology's users as they are.</param>
    internal SentinelStoreProcesses(TestSecrets? secrets, Func<RedisUser, RedisUser>? sentinelUser = null)
    {
        _sentinelUser = sentinelUser ?? (user => user);
        Secrets = secrets ?? new TestSecrets();
        Topology = DiveTopology.Load(CliContext.InstancesDirectory(), highAvailability: true);
        Ha = Topology.BlacklistHa!;
        NodePorts = Ha.DataNodes.Select(_ => FreePort.Next()).ToArray();
        SentinelPorts = Ha.Sentinels.Select(_ => FreePort.Next()).ToArray();
        try
        {
            for (var i = 0; i < NodePorts.Length; i++)
            {
                _nodes.Add(StartNode(i));
            }
            for (var i = 0; i < SentinelPorts.Length; i++)
            {
                _sentinels.Add(StartSentinel(i));
            }
            WaitUntil(TimeSpan.FromSeconds(60), "every Sentinel sees 2 replicas and 2 other Sentinels", SentinelsSeeEverything);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public DiveTopology Topology { get; }
    public BlacklistHighAvailability Ha { get; }
    public TestSecrets Secrets { get; }
    public int[] NodePorts { get; }
    public int[] SentinelPorts { get; }

    public string NodeEndpoints => string.Join(',', NodePorts.Select(p => $"127.0.0.1:{p}"));
    public string SentinelEndpoints => string.Join(',', SentinelPorts.Select(p => $"127.0.0.1:{p}"));

    /// <summary>What the CLI needs to reach this store: endpoints and the admin and operator passwords by their variables.</summary>
    public EnvironmentScope Environment() => new EnvironmentScope()
        .Set("DIVE_USER_SECRETS_FILE", Path.Combine(_dir, "no-user-secrets.json"))
        .Set(DiveAspire.Cli.Connections.SentinelPrimaryResolver.SentinelsVariable, SentinelEndpoints)
        .Set("DIVE_BLACKLIST_NODES", NodeEndpoints)
        .Set("DIVE_BLACKLIST_HA", "true")
        .Set("DIVE_REDIS_ENDPOINT_BLACKLIST", $"127.0.0.1:{NodePorts[0]}")
        .Set(RedisAcl.Admin(Topology.Blacklist).PasswordEnvironmentVariable, Secrets.For(RedisAcl.Admin(Topology.Blacklist)))
        .Set(RedisAcl.Operator(Topology.Blacklist).PasswordEnvironmentVariable, Secrets.For(RedisAcl.Operator(Topology.Blacklist)));

    public IEnumerable<string> Passwords => Secrets.AllValues;

    public int NodeProcessId(int index) => _nodes[index]!.Id;

    public int SentinelProcessId(int index) => _sentinels[index]!.Id;

    /// <summary>The connection string of a backend's client of this store (its user on the Sentinels and the data nodes).</summary>
    public string BackendConnectionString(string instanceCode = "USA")
    {
        var user = RedisAcl.Backend(Topology.Blacklist, Topology.Instances.Single(i => i.Code == instanceCode));
        return $"{SentinelEndpoints},serviceName={BlacklistHighAvailability.ServiceName},user={user.Name},password={Secrets.For(user)}{RedisAcl.ClientOptions}";
    }

    /// <summary>An admin connection to one data node (<paramref name="sentinel"/>: to one Sentinel).</summary>
    public StackExchange.Redis.ConnectionMultiplexer ConnectAdmin(int index, bool sentinel = false)
    {
        var admin = RedisAcl.Admin(Topology.Blacklist);
        var port = sentinel ? SentinelPorts[index] : NodePorts[index];
        var options = StackExchange.Redis.ConfigurationOptions.Parse(
            $"127.0.0.1:{port},user={admin.Name},password={Secrets.For(admin)},allowAdmin=true,tiebreaker=,configChannel=,connectTimeout=2000");
        if (sentinel)
        {
            options.CommandMap = StackExchange.Redis.CommandMap.Sentinel;
        }
        return StackExchange.Redis.ConnectionMultiplexer.Connect(options);
    }

    /// <summary>SIGKILL of one data node (no shutdown, no AOF flush beyond what fsync always did).</summary>
    public void KillNode(int index) => Kill(_nodes[index]);

    public void KillSentinel(int index) => Kill(_sentinels[index]);

    private Process StartNode(int index)
    {
        var spec = Ha.DataNodes[index];
        var dir = Directory.CreateDirectory(Path.Combine(_dir, spec.ResourceName)).FullName;
        var users = RedisAcl.Users(spec, Topology).Select(u => (u, Secrets.For(u)));
        var acl = Secret(Path.Combine(dir, "users.acl"), RedisAcl.Render(users));
        var replication = RedisAcl.Replication(spec);
        var conf = Secret(Path.Combine(dir, "secret.conf"),
            $"aclfile \"{acl}\"\nmasteruser {replication.Name}\nmasterauth {Secrets.For(replication)}\n");
        List<string> args = [conf, "--port", NodePorts[index].ToString(), "--bind", "127.0.0.1", "--dir", dir, .. spec.ServerArguments(), .. Ha.ReplicationArguments()];
        if (index > 0)
        {
            args.AddRange(["--replicaof", "127.0.0.1", NodePorts[0].ToString()]);
        }
        return Start("redis-server", args, NodePorts[index]);
    }

    private Process StartSentinel(int index)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_dir, Ha.Sentinels[index].ResourceName)).FullName;
        var sentinelUser = RedisAcl.Sentinel(Topology.Blacklist);
        var users = RedisAcl.SentinelUsers(Topology).Select(_sentinelUser).Select(u => u.AclLine(Secrets.For(u)));
        // Sentinel rewrites its configuration file (discovered peers, epochs), so it is a file of its own, never shared.
        var conf = Secret(Path.Combine(dir, "sentinel.conf"), string.Join('\n', [
            $"port {SentinelPorts[index]}",
            "bind 127.0.0.1",
            $"dir \"{dir}\"",
            RedisAcl.DefaultUserLine,
            .. users,
            .. Ha.SentinelMonitorLines("127.0.0.1", NodePorts[0]),
            $"sentinel auth-user {BlacklistHighAvailability.ServiceName} {sentinelUser.Name}",
            $"sentinel auth-pass {BlacklistHighAvailability.ServiceName} {Secrets.For(sentinelUser)}",
            $"sentinel sentinel-user {sentinelUser.Name}",
            $"sentinel sentinel-pass {Secrets.For(sentinelUser)}",
            "",
        ]));
        return Start("redis-sentinel", [conf], SentinelPorts[index]);
    }

    private static string Secret(string path, string text)
    {
        File.WriteAllText(path, "");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, text);
        return path;
    }

    private static Process Start(string binary, IEnumerable<string> args, int port)
    {
        var start = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{binary} did not start");
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{binary} on port {port} exited with {process.ExitCode}: {string.Join(" | ", output.TakeLast(5))}");
            }
            try
            {
                using var client = new TcpClient("127.0.0.1", port);
                return process;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }
        process.Kill();
        throw new TimeoutException($"{binary} did not listen on {port} within 30 s");
    }

    private bool SentinelsSeeEverything()
    {
        var admin = RedisAcl.Admin(Topology.Blacklist);
        foreach (var port in SentinelPorts)
        {
            var options = StackExchange.Redis.ConfigurationOptions.Parse(
                $"127.0.0.1:{port},user={admin.Name},password={Secrets.For(admin)},allowAdmin=true,tiebreaker=,configChannel=,connectTimeout=2000");
            options.CommandMap = StackExchange.Redis.CommandMap.Sentinel;
            using var connection = StackExchange.Redis.ConnectionMultiplexer.Connect(options);
            var server = connection.GetServer(connection.GetEndPoints()[0]);
            var master = server.SentinelMaster(BlacklistHighAvailability.ServiceName).ToDictionary(p => p.Key, p => p.Value);
            if (master["num-slaves"] != "2" || master["num-other-sentinels"] != "2")
            {
                return false;
            }
        }
        return true;
    }

    public static void WaitUntil(TimeSpan timeout, string what, Func<bool> done)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (done())
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException or SocketException)
            {
                // Not there yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not within {timeout.TotalSeconds:0} s: {what}");
            }
            Thread.Sleep(250);
        }
    }

    private static void Kill(Process? process)
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        foreach (var process in _sentinels.Concat(_nodes))
        {
            try
            {
                Kill(process);
            }
            catch (InvalidOperationException)
            {
                // Never started.
            }
            process?.Dispose();
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
