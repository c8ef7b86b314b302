using Aspire.Hosting;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using static DiveAspire.Tests.Infrastructure.ModelInspection;

namespace DiveAspire.Tests.Model;

/// <summary>Issue 14: the HA shared store's graph (process and container runtime), built but not started.</summary>
public sealed class BlacklistHaModelTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("dive-model-ha-").FullName;
    private readonly TestSecrets _secrets = new();

    private Task<IDistributedApplicationTestingBuilder> BuildAsync(params string[] extra) =>
        BuildModelAsync("process", "rou", _data, _secrets, [AppHostArgs.HighAvailability, .. extra]);

    private static IResource Get(IDistributedApplicationTestingBuilder builder, string name) =>
        Assert.Single(builder.Resources, r => r.Name == name);

    [Fact]
    public async Task Three_data_nodes_and_three_sentinels_on_the_planned_ports_grouped_under_redis_blacklist()
    {
        await using var builder = await BuildAsync();
        var ha = BlacklistHighAvailability.Default;
        foreach (var node in ha.DataNodes)
        {
            var resource = Assert.IsType<LocalRedisResource>(Get(builder, node.ResourceName));
            Assert.Equal(node.HostPort, Assert.Single(resource.Annotations.OfType<EndpointAnnotation>()).Port);
        }
        foreach (var sentinel in ha.Sentinels)
        {
            var resource = Assert.IsType<LocalSentinelResource>(Get(builder, sentinel.ResourceName));
            Assert.Equal("redis-sentinel", resource.Command);
            Assert.Equal(sentinel.HostPort, Assert.Single(resource.Annotations.OfType<EndpointAnnotation>()).Port);
        }
        foreach (var name in ha.ResourceNames.Skip(1))
        {
            var parent = Assert.Single(Get(builder, name).Annotations.OfType<ResourceRelationshipAnnotation>(), r => r.Type == "Parent");
            Assert.Equal("redis-blacklist", parent.Resource.Name);
        }
        Assert.Contains(builder.Resources, r => r.Name == "redis-password-blacklist-replication");
        Assert.Contains(builder.Resources, r => r.Name == "redis-password-blacklist-sentinel");
    }

    [Fact]
    public async Task Every_data_node_fsyncs_always_never_evicts_refuses_writes_without_a_replica_and_has_no_password_in_its_arguments()
    {
        await using var builder = await BuildAsync();
        foreach (var node in BlacklistHighAvailability.Default.DataNodes)
        {
            var args = Strings(await ArgsAsync(Get(builder, node.ResourceName)));
            Assert.Equal("always", ValueAfter(args, "--appendfsync"));
            Assert.Equal("noeviction", ValueAfter(args, "--maxmemory-policy"));
            Assert.Equal("1", ValueAfter(args, "--min-replicas-to-write"));
            Assert.Equal("5", ValueAfter(args, "--min-replicas-max-lag"));
            Assert.Equal("127.0.0.1", ValueAfter(args, "--replica-announce-ip"));
            Assert.DoesNotContain(args, a => a.Contains("masterauth") || a.Contains("requirepass") || _secrets.AllValues.Any(a.Contains));
        }
        foreach (var sentinel in BlacklistHighAvailability.Default.Sentinels)
        {
            var args = Strings(await ArgsAsync(Get(builder, sentinel.ResourceName)));
            Assert.DoesNotContain(args, a => _secrets.AllValues.Any(a.Contains));
        }
    }

    [Fact]
    public async Task Backends_reach_the_store_through_the_three_sentinels_with_the_service_name()
    {
        await using var builder = await BuildAsync();
        var env = await EnvironmentAsync(Get(builder, "backend-rou"));
        var expression = Assert.IsType<ReferenceExpression>(env["ConnectionStrings__blacklist"]);
        Assert.Equal(
            "{redis-blacklist-sentinel-1.bindings.tcp.host}:{redis-blacklist-sentinel-1.bindings.tcp.port}," +
            "{redis-blacklist-sentinel-2.bindings.tcp.host}:{redis-blacklist-sentinel-2.bindings.tcp.port}," +
            "{redis-blacklist-sentinel-3.bindings.tcp.host}:{redis-blacklist-sentinel-3.bindings.tcp.port}," +
            "serviceName=dive-blacklist,user=backend-rou,password={redis-password-blacklist-backend-rou.value}" + RedisAcl.ClientOptions,
            expression.ValueExpression);
    }

    [Fact]
    public async Task Without_the_switch_the_shared_store_is_one_redis_as_before()
    {
        await using var builder = await BuildModelAsync("process", "rou", _data, _secrets);
        Assert.Single(builder.Resources, r => r.Name.StartsWith("redis-blacklist", StringComparison.Ordinal) && r is IResourceWithConnectionString);
        Assert.DoesNotContain(builder.Resources, r => r.Name.Contains("sentinel", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_redis_sentinel_binary_stops_the_apphost_with_what_to_install()
    {
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("Dive:RedisSentinel=/nonexistent/redis-sentinel"));
        Assert.Contains("apt-get install -y redis-sentinel", ex.Message);
    }

    private Task<IDistributedApplicationTestingBuilder> BuildContainerAsync(params string[] extra) =>
        BuildModelAsync("container", "rou", _data, _secrets,
            [AppHostArgs.HighAvailability, "ASPIRE_CONTAINER_RUNTIME=podman", "Dive:VolumePrefix=dive-model", "Dive:Keycloak=false", .. extra]);

    [Fact]
    public async Task Container_runtime_runs_every_node_and_sentinel_from_the_redis_image_on_the_host_network_on_its_planned_port()
    {
        await using var builder = await BuildContainerAsync();
        var ha = BlacklistHighAvailability.Default;
        foreach (var (name, port) in ha.DataNodes.Select(n => (n.ResourceName, n.HostPort)).Concat(ha.Sentinels.Select(s => (s.ResourceName, s.HostPort))))
        {
            var resource = Assert.IsAssignableFrom<ExecutableResource>(Get(builder, name));
            Assert.Equal("podman", resource.Command);
            var endpoint = Assert.Single(resource.Annotations.OfType<EndpointAnnotation>());
            Assert.Equal(port, endpoint.Port);
            Assert.False(endpoint.IsProxied, $"{name}: the container on the host's network binds its planned port itself");
            var args = Strings(await ArgsAsync(resource));
            Assert.Equal(["run", "--rm", "--name", $"dive-model-{name}", "--network", "host"], args.Take(6));
            Assert.Equal(HaContainerLaunch.Image, args[args.IndexOf("--entrypoint") + 2]);
            Assert.Equal("redis-server", ValueAfter(args, "--entrypoint"));
            Assert.Equal("127.0.0.1", ValueAfter(args, "--bind"));
            Assert.Equal("<EndpointReferenceExpression>", ValueAfter(args, "--port"));
        }
        // The same image as every other Redis of the container runtime (Aspire.Hosting.Redis's).
        var image = Assert.Single(Get(builder, "redis-usa").Annotations.OfType<ContainerImageAnnotation>());
        Assert.Equal(HaContainerLaunch.Image, $"{image.Registry}/{image.Image}:{image.Tag}");
        foreach (var name in ha.ResourceNames.Skip(1))
        {
            var parent = Assert.Single(Get(builder, name).Annotations.OfType<ResourceRelationshipAnnotation>(), r => r.Type == "Parent");
            Assert.Equal("redis-blacklist", parent.Resource.Name);
        }
    }

    [Fact]
    public async Task Container_runtime_data_nodes_keep_data_in_a_named_volume_with_the_same_settings_and_no_password_in_their_arguments()
    {
        await using var builder = await BuildContainerAsync();
        foreach (var node in BlacklistHighAvailability.Default.DataNodes)
        {
            var args = Strings(await ArgsAsync(Get(builder, node.ResourceName)));
            var dataDirectory = Path.Combine(_data, node.ResourceName);
            Assert.Contains($"dive-model-{node.ResourceName}-data:/data", args);
            Assert.Contains($"{dataDirectory}:{dataDirectory}", args);
            Assert.Equal(Path.Combine(dataDirectory, "secret.conf"), args[args.IndexOf(HaContainerLaunch.Image) + 1]);
            Assert.Equal("/data", ValueAfter(args, "--dir"));
            Assert.Equal("always", ValueAfter(args, "--appendfsync"));
            Assert.Equal("noeviction", ValueAfter(args, "--maxmemory-policy"));
            Assert.Equal("1", ValueAfter(args, "--min-replicas-to-write"));
            Assert.Equal("127.0.0.1", ValueAfter(args, "--replica-announce-ip"));
            Assert.DoesNotContain(args, a => a.Contains("masterauth") || a.Contains("requirepass") || _secrets.AllValues.Any(a.Contains));
        }
        foreach (var sentinel in BlacklistHighAvailability.Default.Sentinels)
        {
            var args = Strings(await ArgsAsync(Get(builder, sentinel.ResourceName)));
            Assert.Equal("--sentinel", args[args.IndexOf(HaContainerLaunch.Image) + 2]);
            Assert.DoesNotContain(args, a => a.EndsWith(":/data", StringComparison.Ordinal) || _secrets.AllValues.Any(a.Contains));
        }
    }

    [Fact]
    public async Task Container_runtime_backends_reach_the_store_through_the_sentinels_and_the_exporter_at_the_container_host()
    {
        await using var builder = await BuildContainerAsync("Dive:Monitoring=true", "AppHost:ContainerHostname=192.0.2.10");
        var env = await EnvironmentAsync(Get(builder, "backend-rou"));
        var expression = Assert.IsType<ReferenceExpression>(env["ConnectionStrings__blacklist"]);
        Assert.StartsWith("{redis-blacklist-sentinel-1.bindings.tcp.host}:{redis-blacklist-sentinel-1.bindings.tcp.port},", expression.ValueExpression);
        Assert.Contains("serviceName=dive-blacklist,user=backend-rou,", expression.ValueExpression);

        // The exporter container scrapes the nodes at the container host's address, on which they listen too.
        var exporter = await EnvironmentAsync(Get(builder, MonitoringNames.RedisExporter));
        foreach (var name in BlacklistHighAvailability.Default.ResourceNames)
        {
            var variable = $"DIVE_SCRAPE_{name.Replace('-', '_').ToUpperInvariant()}";
            Assert.True(exporter.ContainsKey(variable), $"the exporter is not told the address of {name}");
            var args = Strings(await ArgsAsync(Get(builder, name)));
            var bind = args.IndexOf("--bind");
            Assert.Equal(["127.0.0.1", "-192.0.2.10"], args.Skip(bind + 1).Take(2));
        }
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
