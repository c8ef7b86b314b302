using Aspire.Hosting;
using DiveAspire.AppHost;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.Tests.Unit;

/// <summary>What `./dive up --join` and the bind addresses accept, and what a joining spoke must be given.</summary>
public sealed class JoinSettingsTests
{
    private static IConfiguration Configuration(params string[] args) =>
        new ConfigurationBuilder().AddCommandLine(DiveUpArguments.Translate(args)).Build();

    [Fact]
    public void Join_defaults_the_shared_store_to_the_hubs_host_on_the_planned_port()
    {
        var join = JoinSettings.From(Configuration("--join", "http://hub.example.org:4000"))!;
        Assert.Equal(new Uri("http://hub.example.org:4000"), join.HubUrl);
        Assert.Equal($"hub.example.org:{PortPlan.BlacklistRedis}", join.SharedStoreAddress);
        Assert.Null(JoinSettings.From(Configuration("--spokes", "rou")));
    }

    [Fact]
    public void Join_takes_the_shared_store_or_its_sentinels()
    {
        Assert.Equal("10.0.0.5:7000", JoinSettings.From(Configuration("--join", "http://hub:4000", "Dive:Join:SharedStore=10.0.0.5:7000"))!.SharedStoreAddress);
        Assert.Equal("s1:26379,s2:26380,s3:26381,serviceName=dive-blacklist",
            JoinSettings.From(Configuration("--join", "https://hub:4000", "Dive:Join:Sentinels=s1:26379, s2:26380,s3:26381"))!.SharedStoreAddress);
    }

    [Theory]
    [InlineData("--join", "hub:4000")]                                   // no scheme
    [InlineData("--join", "ftp://hub:4000")]
    [InlineData("--join", "http://hub:4000/api")]                        // a path
    [InlineData("--join", "http://user:pw@hub:4000")]                    // credentials in the URL
    [InlineData("Dive:Join:SharedStore=10.0.0.5:7000")]                  // a store without a hub
    [InlineData("--join", "http://hub:4000", "Dive:Join:SharedStore=hub:6479,password=x")]     // an option smuggled into the connection string
    [InlineData("--join", "http://hub:4000", "Dive:Join:SharedStore=hub")]                     // no port
    [InlineData("--join", "http://hub:4000", "Dive:Join:SharedStore=hub:99999")]
    [InlineData("--join", "http://hub:4000", "Dive:Join:Sentinels=s1:26379,s2:x")]
    [InlineData("--join", "http://hub:4000", "Dive:Join:SharedStore=hub:6479", "Dive:Join:Sentinels=s1:26379")]
    public void A_bad_join_setting_is_one_clear_error(params string[] args)
    {
        var error = Assert.Throws<TopologyException>(() => JoinSettings.From(Configuration(args)));
        Assert.DoesNotContain("\n", error.Message);
    }

    [Fact]
    [Trait("Category", "Security")]
    public void Sharing_the_development_key_with_another_machine_must_be_said_explicitly()
    {
        // The development key signs every realm's tokens: a spoke operator holding it could sign the hub's dive-admin.
        var joining = DiveTopology.Load(AppHostArgs.InstancesDirectory, "rou").Joined(null, hubIsRemote: true, AppHostArgs.InstancesDirectory);
        var hub = DiveTopology.Load(AppHostArgs.InstancesDirectory, "none").Joined("rou", hubIsRemote: false, AppHostArgs.InstancesDirectory);
        var error = Assert.Throws<TopologyException>(() => DistributedApplication.CreateBuilder([]).RequireDevelopmentKeyConsent(joining, DiveRuntime.Process, joining: true));
        Assert.Contains(JoinBuilderExtensions.ShareDevelopmentKeySetting + "=true", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Throws<TopologyException>(() => DistributedApplication.CreateBuilder([]).RequireDevelopmentKeyConsent(hub, DiveRuntime.Process, joining: false));

        DistributedApplication.CreateBuilder([$"{JoinBuilderExtensions.ShareDevelopmentKeySetting}=true"]).RequireDevelopmentKeyConsent(joining, DiveRuntime.Process, joining: true);
        DistributedApplication.CreateBuilder([]).RequireDevelopmentKeyConsent(joining, DiveRuntime.Container, joining: true);
        DistributedApplication.CreateBuilder([]).RequireDevelopmentKeyConsent(DiveTopology.Load(AppHostArgs.InstancesDirectory, "rou"), DiveRuntime.Process, joining: false);
    }

    [Fact]
    public void Joining_needs_the_hubs_secrets_and_names_every_missing_one()
    {
        var topology = DiveTopology.Load(AppHostArgs.InstancesDirectory, "rou,bel").Joined(null, hubIsRemote: true, AppHostArgs.InstancesDirectory);
        var builder = DistributedApplication.CreateBuilder([]);
        var error = Assert.Throws<TopologyException>(() => builder.RequireHubSecrets(topology, DiveRuntime.Process));
        foreach (var name in new[] { "redis-password-blacklist-backend-rou-ro", "redis-password-blacklist-backend-bel-ro", Federation.FederationKeyParameter, Federation.DevSigningKeyParameter })
        {
            Assert.Contains(name, error.Message);
        }

        var given = DistributedApplication.CreateBuilder(["Parameters:redis-password-blacklist-backend-rou-ro=a", "Parameters:redis-password-blacklist-backend-bel-ro=b", $"Parameters:{Federation.FederationKeyParameter}=c"]);
        given.RequireHubSecrets(topology, DiveRuntime.Container);
        // The original's variable works as for every Redis password.
        var legacy = DistributedApplication.CreateBuilder(["REDIS_PASSWORD_BLACKLIST_BACKEND_ROU_RO=a"]);
        Assert.DoesNotContain("backend-rou-ro", Assert.Throws<TopologyException>(() => legacy.RequireHubSecrets(topology, DiveRuntime.Container)).Message);
    }

    [Fact]
    public void A_joining_spoke_runs_only_its_spokes_and_a_hub_knows_its_remote_spokes()
    {
        var spoke = DiveTopology.Load(AppHostArgs.InstancesDirectory, "rou").Joined(null, hubIsRemote: true, AppHostArgs.InstancesDirectory);
        Assert.Equal(["ROU"], spoke.LocalInstances.Select(i => i.Code));
        Assert.Equal(["redis-rou"], spoke.LocalRedisStores.Select(s => s.ResourceName));
        Assert.Equal(["USA", "ROU"], spoke.Federation.Select(i => i.Code));

        var hub = DiveTopology.Load(AppHostArgs.InstancesDirectory, "none").Joined("rou", hubIsRemote: false, AppHostArgs.InstancesDirectory);
        Assert.Equal(["USA"], hub.LocalInstances.Select(i => i.Code));
        Assert.Equal(["admin", "operator", "exporter", "backend-usa", "backend-rou-ro"], RedisAcl.Users(hub.Blacklist, hub).Select(u => u.Name));

        Assert.Throws<TopologyException>(() => DiveTopology.Load(AppHostArgs.InstancesDirectory, "none").Joined(null, hubIsRemote: true, AppHostArgs.InstancesDirectory));
        Assert.Throws<TopologyException>(() => DiveTopology.Load(AppHostArgs.InstancesDirectory, "rou").Joined("rou", hubIsRemote: false, AppHostArgs.InstancesDirectory));
        Assert.Throws<TopologyException>(() => DiveTopology.Load(AppHostArgs.InstancesDirectory, "none").Joined("xyz", hubIsRemote: false, AppHostArgs.InstancesDirectory));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("10.1")]
    [InlineData("0177.0.0.1")]
    [InlineData("hub.example.org")]
    public void A_bind_address_must_be_an_ip_address(string value)
    {
        var error = Assert.Throws<TopologyException>(() => DiveOptions.From(Configuration($"Dive:Redis:BindAddress={value}"), AppContext.BaseDirectory));
        Assert.Contains("Dive:Redis:BindAddress", error.Message);
        Assert.Throws<TopologyException>(() => DiveOptions.From(Configuration($"Dive:Backend:BindAddress={value}"), AppContext.BaseDirectory));
    }

    [Fact]
    public void Redis_binds_loopback_plus_the_configured_address()
    {
        Assert.Equal("127.0.0.1", DiveOptions.From(Configuration(), AppContext.BaseDirectory).RedisBindAddress);
        Assert.Equal(["127.0.0.1"], BindAddress.RedisBindList("127.0.0.1"));
        Assert.Equal(["127.0.0.1", "10.0.0.5"], BindAddress.RedisBindList("10.0.0.5"));
        Assert.Equal(["0.0.0.0"], BindAddress.RedisBindList("0.0.0.0"));
    }
}
