using System.Diagnostics;
using System.Text.Json.Nodes;
using DiveAspire.Tests.Cli;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Tests.Kubernetes;

/// <summary>
/// The published shared store for real: the hub manifests' own command lines for the three data nodes and three
/// Sentinels, with the Secret files `--secrets-from user-secrets` wrote, run by this machine's redis-server. Only what a
/// cluster provides is substituted: Service names become 127.0.0.1, planned ports free ports, the mounted Secret and
/// volume folders temporary ones. Then a backend's credential reaches the primary through the Sentinels, and a write
/// is acknowledged by a replica (min-replicas-to-write) and replicated to both.
/// </summary>
public sealed class PublishedSharedStoreTests(PublishedManifestsFixture published) : IClassFixture<PublishedManifestsFixture>, IDisposable
{
    private const int SentinelContainerPort = 26379;
    private readonly List<Process> _processes = [];
    private readonly string _root = Directory.CreateTempSubdirectory("dive-k8s-ha-").FullName;

    [Fact]
    public async Task The_published_data_nodes_and_sentinels_form_a_working_store_a_backend_reaches_through_the_sentinels()
    {
        var ha = BlacklistHighAvailability.Default;
        var ports = ha.DataNodes.Select(n => n.ResourceName).Concat(ha.Sentinels.Select(s => s.ResourceName)).ToDictionary(n => n, _ => FreePort.Next());
        var secrets = Path.Combine(published.Output, "secrets", "usa", "values");
        var secretDir = Path.Combine(_root, "secret");
        Directory.CreateDirectory(secretDir);
        File.Copy(Path.Combine(secrets, "redis-blacklist-acl.acl"), Path.Combine(secretDir, "users.acl"));
        File.Copy(Path.Combine(secrets, "replication.conf"), Path.Combine(secretDir, "replication.conf"));
        var sentinelDir = Path.Combine(_root, "sentinel-secret");
        Directory.CreateDirectory(sentinelDir);
        File.WriteAllText(Path.Combine(sentinelDir, "sentinel.conf"), Localize(File.ReadAllText(Path.Combine(secrets, "sentinel.conf")), ports));

        foreach (var node in ha.DataNodes)
        {
            var data = Directory.CreateDirectory(Path.Combine(_root, node.ResourceName)).FullName;
            var script = Localize(Script(node.ResourceName), ports)
                .Replace("/etc/dive-redis/", secretDir + "/", StringComparison.Ordinal);
            Start(script + $" --port {ports[node.ResourceName]} --bind 127.0.0.1 --dir {data}", data);
        }
        foreach (var sentinel in ha.Sentinels)
        {
            var data = Directory.CreateDirectory(Path.Combine(_root, sentinel.ResourceName)).FullName;
            var script = Localize(Script(sentinel.ResourceName), ports)
                .Replace("/etc/dive-sentinel/", sentinelDir + "/", StringComparison.Ordinal)
                .Replace("/data/", data + "/", StringComparison.Ordinal)
                .Replace($"--port {SentinelContainerPort}", $"--port {ports[sentinel.ResourceName]} --bind 127.0.0.1", StringComparison.Ordinal);
            Start(script, data);
        }

        // The hub's backend writes (spokes on their own clusters have read-only users and relay to it).
        var usa = RedisAcl.Backend(RedisStoreSpec.Blacklist, published.Topology.Hub);
        var sentinels = string.Join(',', ha.Sentinels.Select(s => $"127.0.0.1:{ports[s.ResourceName]}"));
        var options = ConfigurationOptions.Parse($"{sentinels},serviceName={BlacklistHighAvailability.ServiceName},user={usa.Name},password={published.Secrets.For(usa)}{RedisAcl.ClientOptions}");
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 3000;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
                var db = redis.GetDatabase();
                await db.StringSetAsync("blacklist:k8s-test", "1", TimeSpan.FromMinutes(1));
                // Acknowledged by a replica: what the backends' WAIT 1 relies on after a revocation.
                Assert.Equal(1L, (long)await db.ExecuteAsync("WAIT", 1, 2000));
                Assert.Equal("1", (string?)await db.StringGetAsync("blacklist:k8s-test"));
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException or Xunit.Sdk.XunitException)
            {
                last = ex;
                await Task.Delay(1000);
            }
        }
        throw new InvalidOperationException($"the published store did not serve {usa.Name} through its Sentinels within 60 s: {last?.Message}\n{Logs()}");
    }

    /// <summary>The shell command a Deployment of the hub overlay runs (its args after -c).</summary>
    private string Script(string deployment)
    {
        var container = (JsonObject)published.Object("usa", "Deployment", deployment)["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Equal("/bin/sh", (string?)container["command"]![0]);
        var args = container["args"]!.AsArray().Select(a => (string)a!).ToList();
        Assert.Equal("-c", args[0]);
        return args[1];
    }

    /// <summary>What the cluster provides: each Service name resolves to this machine, each planned port is a free one.</summary>
    private static string Localize(string text, Dictionary<string, int> ports)
    {
        var ha = BlacklistHighAvailability.Default;
        foreach (var node in ha.DataNodes.Select(n => (n.ResourceName, n.HostPort)).Concat(ha.Sentinels.Select(s => (s.ResourceName, s.HostPort))))
        {
            var name = $"{node.ResourceName}.dive-usa.svc.cluster.local"; // the cluster name each node announces
            text = text.Replace($"{name} {node.HostPort}", $"127.0.0.1 {ports[node.ResourceName]}", StringComparison.Ordinal)
                .Replace($"announce-ip {name} --replica-announce-port {node.HostPort}", $"announce-ip 127.0.0.1 --replica-announce-port {ports[node.ResourceName]}", StringComparison.Ordinal)
                .Replace($"announce-ip {name} --sentinel announce-port {node.HostPort}", $"announce-ip 127.0.0.1 --sentinel announce-port {ports[node.ResourceName]}", StringComparison.Ordinal);
        }
        return text;
    }

    private readonly List<string> _logs = [];

    private void Start(string script, string directory)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _processes.Add(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_logs) _logs.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_logs) _logs.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private string Logs()
    {
        lock (_logs)
        {
            return string.Join('\n', _logs.TakeLast(40));
        }
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
                // already exited
            }
            process.Dispose();
        }
        Directory.Delete(_root, recursive: true);
    }
}
