using Aspire.Hosting;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using static DiveAspire.Tests.Infrastructure.ModelInspection;

namespace DiveAspire.Tests.Model;

/// <summary>Issue 14: the HA shared store's graph (process runtime), built but not started.</summary>
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

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
