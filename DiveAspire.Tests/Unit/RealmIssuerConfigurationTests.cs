using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Instance;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.Tests.Unit;

/// <summary>Issue 15: a deployment's realm issuers are public URLs given by configuration; the local runtimes keep https://localhost:&lt;port&gt;.</summary>
public sealed class RealmIssuerConfigurationTests
{
    private const string PublicUsa = "https://keycloak.usa.dive.example.org/realms/dive-v3-broker-usa";

    private static InstanceInfo Rou(params (string Key, string Value)[] settings) =>
        InstanceInfo.From(new ConfigurationBuilder().AddInMemoryCollection(
            new Dictionary<string, string?> { ["Dive:InstanceCode"] = "ROU", ["Dive:Federation"] = "USA,ROU", ["Dive:Hub"] = "USA" }
                .Concat(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))).Build());

    [Fact]
    public void Without_configuration_every_realm_issues_on_this_machines_planned_port()
    {
        var rou = Rou();
        Assert.Equal([Federation.Issuer(NatoCatalog.Hub), Federation.Issuer(NatoCatalog.Get("ROU"))], rou.Issuers);
        Assert.StartsWith("https://localhost:", rou.IssuerOf("usa"));
    }

    [Fact]
    public void A_configured_issuer_replaces_the_local_one_for_that_realm_only()
    {
        var rou = Rou(("Dive:Auth:Realms:usa:Issuer", PublicUsa + "/"));
        Assert.Equal(PublicUsa, rou.IssuerOf("USA"));
        Assert.Equal(Federation.Issuer(NatoCatalog.Get("ROU")), rou.IssuerOf("ROU"));
        var realms = new RealmIdentity(rou);
        Assert.Equal("USA", realms.RealmOfIssuer(PublicUsa));
        // The machine-local issuer of the hub realm is no longer trusted once the deployment names the public one.
        Assert.Null(realms.RealmOfIssuer(Federation.Issuer(NatoCatalog.Hub)));
    }
}
