using DiveAspire.Topology;

namespace DiveAspire.Tests.Unit;

public class PortPlanTests
{
    [Theory]
    [InlineData("USA", 3000, 4000, 8443, 8080, 5432, 27017, 6379, 8181, 9000)]
    [InlineData("ROU", 3025, 4025, 8468, 8105, 5457, 27042, 6404, 8431, 9025)]
    [InlineData("GBR", 3031, 4031, 8474, 8111, 5463, 27048, 6410, 8491, 9031)]
    [InlineData("UKR", 3037, 4037, 8480, 8117, 5469, 27054, 6416, 8551, 9037)]
    public void Formulas_match_the_original(string code, int frontend, int backend, int kcHttps, int kcHttp, int postgres, int mongo, int redis, int opa, int kas)
    {
        var c = NatoCatalog.Get(code);
        Assert.Equal(frontend, PortPlan.Frontend(c));
        Assert.Equal(backend, PortPlan.Backend(c));
        Assert.Equal(kcHttps, PortPlan.KeycloakHttps(c));
        Assert.Equal(kcHttp, PortPlan.KeycloakHttp(c));
        Assert.Equal(postgres, PortPlan.Postgres(c));
        Assert.Equal(mongo, PortPlan.MongoDb(c));
        Assert.Equal(redis, PortPlan.Redis(c));
        Assert.Equal(opa, PortPlan.Opa(c));
        Assert.Equal(kas, PortPlan.Kas(c));
    }

    [Fact]
    public void Finds_the_original_OPA_and_Keycloak_collision_between_Slovenia_and_Estonia()
    {
        var allocations = PortPlan.AllServices(NatoCatalog.Get("SVN")).Concat(PortPlan.AllServices(NatoCatalog.Get("EST")));
        var collision = Assert.Single(PortPlan.FindCollisions(allocations));
        Assert.Equal(8451, collision.Port);
        Assert.Contains(collision.Claimants, c => c is { Owner: "SVN", Service: "opa" });
        Assert.Contains(collision.Claimants, c => c is { Owner: "EST", Service: "keycloak-https" });
    }

    [Fact]
    public void Finds_a_planted_collision_among_allocated_ports_and_reports_every_claimant()
    {
        var planted = new List<PortAllocation>
        {
            new("USA", "backend", 4000), new("ROU", "redis", 6404), new("test", "planted", 4000), new("x", "y", 6404), new("z", "w", 6404),
        };
        var collisions = PortPlan.FindCollisions(planted);
        Assert.Equal([4000, 6404], collisions.Select(c => c.Port));
        Assert.Equal(3, collisions[1].Claimants.Count);
        var ex = Assert.Throws<TopologyException>(() => PortPlan.EnsureNoCollisions(planted));
        Assert.Contains("port 4000 claimed by USA/backend, test/planted", ex.Message);
    }

    [Fact]
    public void Full_federation_with_monitoring_and_keycloak_has_no_collisions()
    {
        var all = NatoCatalog.All.Where(c => c.Code != "USA")
            .Select(c => new InstanceDefinition(c, InstanceRole.Spoke, RedisOverrides.None, "/tmp")).ToList();
        var topology = new DiveTopology(new InstanceDefinition(NatoCatalog.Hub, InstanceRole.Hub, RedisOverrides.None, "/tmp"), all);
        Assert.Empty(PortPlan.FindCollisions(PortPlan.Allocate(topology, new PortPlanOptions(Monitoring: true, Grafana: true, Keycloak: true))));
    }
}
