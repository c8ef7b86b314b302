using DiveAspire.Topology;

namespace DiveAspire.Tests.Unit;

/// <summary>Issue 14: the names, ports, ACL users and Sentinel settings every branch reads from one place.</summary>
public class BlacklistHighAvailabilityTests
{
    private static readonly BlacklistHighAvailability Ha = BlacklistHighAvailability.Default;

    private static DiveTopology Topology(bool ha) => DiveTopology.Load(Infrastructure.AppHostArgs.InstancesDirectory, "rou,bel", ha);

    [Fact]
    public void Names_and_ports_follow_the_convention()
    {
        Assert.Equal(["redis-blacklist", "redis-blacklist-replica-1", "redis-blacklist-replica-2"], Ha.DataNodes.Select(n => n.ResourceName));
        Assert.Equal([6479, 6480, 6481], Ha.DataNodes.Select(n => n.HostPort));
        Assert.Equal(["redis-blacklist-sentinel-1", "redis-blacklist-sentinel-2", "redis-blacklist-sentinel-3"], Ha.Sentinels.Select(s => s.ResourceName));
        Assert.Equal([26379, 26380, 26381], Ha.Sentinels.Select(s => s.HostPort));
        Assert.Equal("dive-blacklist", BlacklistHighAvailability.ServiceName);
        Assert.Equal(2, BlacklistHighAvailability.Quorum);
        Assert.Equal("redis-blacklist", Ha.ParentResourceName);
        Assert.Same(RedisStoreSpec.Blacklist, Ha.InitialPrimary);
        Assert.Equal(6, Ha.ResourceNames.Distinct().Count());
    }

    [Fact]
    public void Every_data_node_never_evicts_and_fsyncs_every_write_and_shares_the_stores_secrets()
    {
        foreach (var node in Ha.DataNodes)
        {
            Assert.Equal("noeviction", node.MaxMemoryPolicy);
            Assert.Equal("always", node.AppendFsync);
            Assert.Equal(RedisKind.TokenStore, node.Kind);
            Assert.Equal(RedisStoreSpec.Blacklist.PasswordParameterName, node.PasswordParameterName);
        }
    }

    [Fact]
    public void Only_the_switch_adds_the_replica_and_sentinel_ports_and_the_full_plan_has_no_collision()
    {
        var single = PortPlan.Allocate(Topology(false), new PortPlanOptions(Monitoring: true, Grafana: true, Keycloak: true));
        var ha = PortPlan.Allocate(Topology(true), new PortPlanOptions(Monitoring: true, Grafana: true, Keycloak: true, HighAvailability: true));
        Assert.DoesNotContain(single, a => a.Port is 6480 or 6481 or 26379);
        Assert.Equal(
            ["redis-blacklist-replica-1:6480", "redis-blacklist-replica-2:6481", "redis-blacklist-sentinel-1:26379", "redis-blacklist-sentinel-2:26380", "redis-blacklist-sentinel-3:26381"],
            ha.Except(single).Select(a => $"{a.Service}:{a.Port}"));
        Assert.Empty(PortPlan.FindCollisions(ha));

        var all = NatoCatalog.All.Where(c => c.Code != "USA")
            .Select(c => new InstanceDefinition(c, InstanceRole.Spoke, RedisOverrides.None, "/tmp")).ToList();
        var everyNation = new DiveTopology(new InstanceDefinition(NatoCatalog.Hub, InstanceRole.Hub, RedisOverrides.None, "/tmp"), all);
        Assert.Empty(PortPlan.FindCollisions(PortPlan.Allocate(everyNation, new PortPlanOptions(true, true, true, HighAvailability: true))));
    }

    [Fact]
    public void A_planted_collision_with_a_sentinel_port_is_found()
    {
        var ports = PortPlan.Allocate(Topology(true), new PortPlanOptions(HighAvailability: true)).Append(new("test", "planted", 26380));
        var collision = Assert.Single(PortPlan.FindCollisions(ports));
        Assert.Contains("shared/redis-blacklist-sentinel-2", collision.ToString());
    }

    [Fact]
    public void Data_nodes_get_the_replication_and_sentinel_users_only_with_the_switch()
    {
        Assert.DoesNotContain(RedisAcl.Users(RedisStoreSpec.Blacklist, Topology(false)), u => u.Name is "replication" or "sentinel");
        var topology = Topology(true);
        foreach (var node in topology.BlacklistDataNodes)
        {
            var users = RedisAcl.Users(node, topology).ToDictionary(u => u.Name);
            Assert.Equal(["admin", "backend-bel", "backend-rou", "backend-usa", "exporter", "operator", "replication", "sentinel"], users.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("redis-password-blacklist-replication", users["replication"].PasswordParameterName);
            Assert.Equal("REDIS_PASSWORD_BLACKLIST_SENTINEL", users["sentinel"].PasswordEnvironmentVariable);
            Assert.Contains("+psync", users["replication"].Rules);
            Assert.Contains("+wait", users["backend-rou"].Rules);
        }
        // An instance's own Redis is not replicated.
        Assert.DoesNotContain(RedisAcl.Users(RedisStoreSpec.ForInstance(topology.Hub), topology), u => u.Name is "replication" or "sentinel");
    }

    [Fact]
    public void Sentinel_users_have_the_data_nodes_names_and_secrets_so_one_credential_reaches_both()
    {
        var topology = Topology(true);
        var onSentinels = RedisAcl.SentinelUsers(topology);
        var onDataNodes = RedisAcl.Users(topology.Blacklist, topology).ToDictionary(u => u.Name);
        Assert.Equal(["admin", "backend-bel", "backend-rou", "backend-usa", "exporter", "operator", "sentinel"], onSentinels.Select(u => u.Name).Order(StringComparer.Ordinal));
        foreach (var user in onSentinels)
        {
            Assert.Equal(onDataNodes[user.Name].PasswordParameterName, user.PasswordParameterName);
        }
        var backend = onSentinels.Single(u => u.Name == "backend-rou");
        Assert.Contains("+sentinel|get-master-addr-by-name", backend.Rules);
        Assert.Contains("&+switch-master", backend.Rules);
        Assert.DoesNotContain("~", backend.Rules.Replace("resetkeys", ""));
        Assert.DoesNotContain("failover", backend.Rules);
        Assert.Contains("+sentinel|is-master-down-by-addr", onSentinels.Single(u => u.Name == "sentinel").Rules);
    }

    [Fact]
    public void Sentinel_settings_are_rendered_for_the_service()
    {
        Assert.Equal(
            [
                "sentinel monitor dive-blacklist 127.0.0.1 6479 2",
                "sentinel down-after-milliseconds dive-blacklist 1500",
                "sentinel failover-timeout dive-blacklist 5000",
                "sentinel parallel-syncs dive-blacklist 2",
            ],
            Ha.SentinelMonitorLines("127.0.0.1", 6479));
        Assert.Equal(["--min-replicas-to-write", "1", "--min-replicas-max-lag", "5", "--repl-diskless-sync-delay", "0"], Ha.ReplicationArguments());
        Assert.Equal("a:26379,b:26380,c:26381,serviceName=dive-blacklist", Ha.SentinelConnectionPrefix(["a:26379", "b:26380", "c:26381"]));
        Assert.True(Ha.ReplicaAcknowledgementTimeout < TimeSpan.FromSeconds(2), "WAIT must end before the backend's 2 s command timeout");
    }
}
