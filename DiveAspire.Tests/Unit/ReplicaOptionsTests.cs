using DiveAspire.AppHost;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.Tests.Unit;

public sealed class ReplicaOptionsTests
{
    private static DiveOptions From(params (string Key, string Value)[] settings) => DiveOptions.From(
        new ConfigurationBuilder().AddInMemoryCollection(
            settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))
                .Append(new("Dive:InstancesPath", AppHostArgs.InstancesDirectory))).Build(),
        AppContext.BaseDirectory);

    [Fact]
    public void A_per_backend_count_overrides_the_global_one_for_that_backend_only()
    {
        var options = From(("Dive:Replicas", "1"), ("Dive:Replicas:rou", "2"));
        Assert.Equal(2, options.ReplicasFor("ROU"));
        Assert.Equal(2, options.ReplicasFor("rou"));
        Assert.Equal(1, options.ReplicasFor("USA"));
        Assert.Equal(3, From(("Dive:Replicas", "3")).ReplicasFor("BEL"));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("9")]
    [InlineData("two")]
    public void A_bad_per_backend_count_is_a_clear_error(string value)
    {
        var error = Assert.Throws<TopologyException>(() => From(("Dive:Replicas:rou", value)));
        Assert.Contains("Dive:Replicas:rou", error.Message);
    }
}
