using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DiveAspire.Tests.Security;

/// <summary>The pure parts of the trust rules: user keys never collide across realms, bad settings stop a backend.</summary>
[Trait("Category", "Security")]
public sealed class IdentityUnitTests
{
    [Fact]
    public void User_keys_of_different_realm_subject_pairs_never_collide()
    {
        Assert.Equal("alice", DiveClaims.UserKey("USA", hubRealm: true, "alice"));
        Assert.Equal("ROU:alice", DiveClaims.UserKey("ROU", hubRealm: false, "alice"));
        // A hub user named like a qualified key is qualified too, so it cannot take the ROU user's key.
        Assert.Equal("USA:ROU:alice", DiveClaims.UserKey("USA", hubRealm: true, "ROU:alice"));
        var pairs = new[] { ("USA", "alice"), ("ROU", "alice"), ("USA", "ROU:alice"), ("ROU", "USA:alice"), ("BEL", "alice"), ("USA", "USA:alice") };
        var keys = pairs.Select(p => DiveClaims.UserKey(p.Item1, p.Item1 == "USA", p.Item2)).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.All(pairs, p => Assert.Equal(p, DiveClaims.ParseUserKey(DiveClaims.UserKey(p.Item1, p.Item1 == "USA", p.Item2), "USA")));
    }

    [Theory]
    [InlineData("container")]
    [InlineData("kubernetes")]
    public void A_backend_outside_the_process_runtime_refuses_a_development_key(string runtime)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Dive:Auth:DevSigningKey"] = new string('k', 64) }).Build();
        var instance = new InstanceInfo("USA", "hub", ["USA", "ROU"], runtime, "USA");
        var ex = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddDiveAuthentication(config, instance));
        Assert.Contains("process runtime only", ex.Message);
    }

    [Fact]
    public void Known_proxies_are_addresses_or_networks_and_anything_else_stops_the_backend()
    {
        var (proxies, networks) = ForwardedHeadersSetup.Parse("10.0.0.2, 192.168.0.0/16,::1");
        Assert.Equal(["10.0.0.2", "::1"], proxies.Select(p => p.ToString()));
        Assert.Equal(["192.168.0.0/16"], networks.Select(n => n.ToString()));
        Assert.Empty(ForwardedHeadersSetup.Parse(null).Proxies);
        Assert.Throws<InvalidOperationException>(() => ForwardedHeadersSetup.Parse("proxy.example"));
    }
}
