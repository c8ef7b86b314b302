using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace DiveAspire.Tests.ContainerRuntime;

/// <summary>The same graph in container runtime, run for real under Podman (skipped with the reason when Podman is not set up).</summary>
[Collection(PodmanFederationCollection.Name)]
public sealed class ContainerRuntimeTests(PodmanFederationFixture federation, ITestOutputHelper output)
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    private static void SkipUnlessPodman() => Skip.IfNot(PodmanEnvironment.Ready, PodmanEnvironment.Reason);

    [SkippableFact]
    public void Redis_runs_in_podman_containers_from_the_image_the_graph_names_and_everything_reached_healthy()
    {
        SkipUnlessPodman();
        // The fixture waited for every Redis and backend to be Healthy; here: they really are Podman containers.
        Assert.Equal(["redis-blacklist", "redis-usa", "redis-rou"], federation.RedisNames);
        foreach (var redis in federation.RedisNames)
        {
            var id = federation.ContainerId(redis);
            var inspected = PodmanEnvironment.PodmanOk($"inspect --format {{{{.State.Status}}}}|{{{{.ImageName}}}} {id}");
            Assert.Equal($"running|{PodmanEnvironment.RedisImage}", inspected);
        }
        Assert.All(federation.BackendNames, b => Assert.IsType<BackendExecutableResource>(Assert.Single(federation.App.Services
            .GetRequiredService<DistributedApplicationModel>().Resources, r => r.Name == b)));
        output.WriteLine($"time to Healthy (start to every resource healthy): {federation.TimeToHealthy.TotalSeconds:F1} s");
    }

    [SkippableTheory]
    [InlineData("usa")]
    [InlineData("rou")]
    public async Task Backends_reach_their_redis_containers(string code)
    {
        SkipUnlessPodman();
        using var http = federation.Backend(code);
        var response = await http.GetAsync("/health/redis");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/health/redis of {code}: {(int)response.StatusCode} {text}");
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal("up", body.GetProperty("status").GetString());
        Assert.Equal("up", body.GetProperty("details").GetProperty("cache").GetProperty("status").GetString());
        Assert.Equal("up", body.GetProperty("details").GetProperty("blacklist").GetProperty("status").GetString());
    }

    /// <summary>
    /// Issue 16: no orchestrator proxy in front of a Redis container either: the port a backend is given is the one the
    /// container runtime publishes for the container's 6379 (through DCP's proxy it published a hidden random port).
    /// </summary>
    [SkippableTheory]
    [InlineData("usa", "cache", "redis-usa")]
    [InlineData("rou", "blacklist", "redis-blacklist")]
    public async Task The_port_a_backend_is_given_is_the_one_the_container_runtime_publishes(string code, string store, string redis)
    {
        SkipUnlessPodman();
        var connectionString = await Security.RedisClientCredentials.BackendConnectionStringAsync(federation, code, store);
        var port = Integration.DirectListener.PortOf(Assert.Single(ConfigurationOptions.Parse(connectionString).EndPoints));
        var published = PodmanEnvironment.PodmanOk($"port {federation.ContainerId(redis)} 6379/tcp");
        var bindings = published.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(bindings, p => p.EndsWith($":{port}", StringComparison.Ordinal));
        // Without the proxy the runtime publishes the port itself: on loopback only, never on every interface (review S5).
        Assert.All(bindings, p => Assert.True(p.StartsWith("127.0.0.1:", StringComparison.Ordinal) || p.StartsWith("[::1]:", StringComparison.Ordinal), p));
    }

    public static TheoryData<string, string, string, string> RedisSettings => new()
    {
        { "redis-usa", "536870912", "allkeys-lru", "everysec" },
        { "redis-rou", "268435456", "allkeys-lru", "everysec" },
        { "redis-blacklist", "268435456", "noeviction", "always" },
    };

    [SkippableTheory]
    [MemberData(nameof(RedisSettings))]
    public async Task Redis_containers_run_with_the_acl_file_and_settings_of_the_graph(string redis, string maxMemory, string policy, string fsync)
    {
        SkipUnlessPodman();
        await using var connection = await federation.ConnectAsync(redis);
        var server = connection.GetServers()[0];
        async Task<string> Get(string key) => (await server.ConfigGetAsync(key)).Single().Value;

        // Issue 13: no requirepass; the users come from the ACL file copied into the container (the admin logged in above).
        Assert.Equal("", await Get("requirepass"));
        Assert.Equal("/etc/dive-redis/users.acl", await Get("aclfile"));
        Assert.Equal("yes", await Get("appendonly"));
        Assert.Equal(fsync, await Get("appendfsync"));
        Assert.Equal(maxMemory, await Get("maxmemory"));
        Assert.Equal(policy, await Get("maxmemory-policy"));
        Assert.Equal("900 1 300 10 60 10000", await Get("save"));
        Assert.Equal("300", await Get("tcp-keepalive"));
        Assert.Equal("/data", await Get("dir"));
    }

    [SkippableTheory]
    [InlineData("redis-usa")]
    [InlineData("redis-rou")]
    [InlineData("redis-blacklist")]
    public async Task Unauthenticated_and_wrong_password_commands_are_refused(string redis)
    {
        SkipUnlessPodman();
        var (host, port) = await federation.RedisEndpointAsync(redis);
        using var client = new TcpClient();
        await client.ConnectAsync(host, port);
        var stream = client.GetStream();
        stream.ReadTimeout = 5000;
        using var reader = new StreamReader(stream, Encoding.ASCII);

        async Task<string> Send(string command)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
            return await reader.ReadLineAsync() ?? "";
        }

        Assert.StartsWith("-NOAUTH", await Send("SET dive:it:unauthenticated 1"));
        Assert.StartsWith("-NOAUTH", await Send("CONFIG GET requirepass"));
        Assert.StartsWith("-WRONGPASS", await Send("AUTH default not-the-password"));
    }

    [SkippableFact]
    [Trait("Category", "Security")]
    public void No_container_has_a_password_in_its_arguments_or_environment()
    {
        SkipUnlessPodman();
        var secrets = federation.Secrets.AllValues.ToList();
        foreach (var redis in federation.RedisNames)
        {
            var id = federation.ContainerId(redis);
            var inspected = PodmanEnvironment.PodmanOk($"inspect --format \"{{{{json .Config.Env}}}} {{{{json .Config.Cmd}}}} {{{{json .Config.Entrypoint}}}} {{{{json .Args}}}} {{{{json .Path}}}}\" {id}");
            Assert.Contains("--aclfile", inspected);
            Assert.DoesNotContain("REDIS_PASSWORD", inspected);
            foreach (var secret in secrets)
            {
                Assert.False(inspected.Contains(secret, StringComparison.Ordinal), $"{redis}: a password is in podman inspect's arguments or environment");
            }
        }
    }

    [SkippableFact]
    public void Redis_is_pid_1_in_its_container_so_a_stop_does_not_wait_for_the_kill_grace()
    {
        SkipUnlessPodman();
        // The container's init process, read from this machine's /proc: `podman top` reads the wrong /proc when
        // Podman itself runs in a chroot (it named the machine's own PID 1 there).
        foreach (var redis in federation.RedisNames)
        {
            var init = int.Parse(PodmanEnvironment.PodmanOk($"inspect --format {{{{.State.Pid}}}} {federation.ContainerId(redis)}"));
            Assert.Equal("redis-server", File.ReadAllText($"/proc/{init}/comm").Trim());
            var namespacePids = File.ReadLines($"/proc/{init}/status").Single(l => l.StartsWith("NSpid:", StringComparison.Ordinal));
            Assert.Equal("1", namespacePids.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[^1]);
        }
    }

    [SkippableFact]
    public async Task Data_in_the_named_volume_survives_a_container_restart()
    {
        SkipUnlessPodman();
        const string redis = "redis-rou";
        var key = $"dive:it:volume:{Guid.NewGuid():N}";
        var value = Guid.NewGuid().ToString("N");
        await using (var connection = await federation.ConnectAsync(redis))
        {
            Assert.True(await connection.GetDatabase().StringSetAsync(key, value));
        }
        var before = federation.ContainerId(redis);

        var clock = Stopwatch.StartNew();
        await federation.StartAgainAsync(redis, KnownResourceCommands.RestartCommand, CommandTimeout);
        output.WriteLine($"{redis} restart until healthy again: {clock.Elapsed.TotalSeconds:F1} s");

        var after = federation.ContainerId(redis);
        var mount = PodmanEnvironment.PodmanOk($"inspect --format \"{{{{range .Mounts}}}}{{{{if eq .Destination \\\"/data\\\"}}}}{{{{.Name}}}}{{{{end}}}}{{{{end}}}}\" {after}");
        Assert.Equal(federation.VolumeName(redis), mount);
        output.WriteLine($"container before restart {before[..12]}, after {after[..12]}");

        await using (var connection = await federation.ConnectAsync(redis))
        {
            Assert.Equal(value, (string?)await connection.GetDatabase().StringGetAsync(key));
        }
        // The AOF is in the named volume, not in the container's own layer.
        var volumePath = PodmanEnvironment.PodmanOk($"volume inspect --format {{{{.Mountpoint}}}} {federation.VolumeName(redis)}");
        Assert.True(Directory.Exists(Path.Combine(volumePath, "appendonlydir")), $"no appendonlydir in {volumePath}");
    }
}

/// <summary>Issue 13 under Podman: the same attacks as <see cref="Security.RedisAclTests"/>, with the containers' ACL files.</summary>
[Collection(PodmanFederationCollection.Name)]
[Trait("Category", "Security")]
public sealed class ContainerRedisAclTests(PodmanFederationFixture federation) : Security.RedisAclChecks(federation)
{
    protected override void SkipIfUnavailable() => Skip.IfNot(PodmanEnvironment.Ready, PodmanEnvironment.Reason);
}
