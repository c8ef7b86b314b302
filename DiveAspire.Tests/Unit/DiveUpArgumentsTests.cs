using DiveAspire.AppHost;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.Tests.Unit;

/// <summary>./dive up's options given to the AppHost directly (aspire run -- --spokes rou) reach the keys ./dive up sets.</summary>
public sealed class DiveUpArgumentsTests
{
    private static IConfiguration Configuration(params string[] args) =>
        new ConfigurationBuilder().AddCommandLine(DiveUpArguments.Translate(args)).Build();

    [Fact]
    public void Every_dive_up_option_becomes_its_configuration_key()
    {
        var config = Configuration("--spokes", "rou,bel", "--runtime=process", "--no-monitoring", "--replicas", "2");
        Assert.Equal("rou,bel", config["Dive:Spokes"]);
        Assert.Equal("process", config["Dive:Runtime"]);
        Assert.Equal("false", config["Dive:Monitoring"]);
        Assert.Equal("2", config["Dive:Replicas"]);

        var join = Configuration("--join", "http://hub-host:4000", "--remote-spokes=rou,bel");
        Assert.Equal("http://hub-host:4000", join["Dive:Join:Hub"]);
        Assert.Equal("rou,bel", join["Dive:RemoteSpokes"]);
    }

    [Fact]
    public void Other_arguments_are_left_to_aspire_configuration()
    {
        string[] args = ["Dive:Spokes=dnk", "--Dive:DataPath", "/tmp/x", "DcpPublisher:RandomizePorts=true"];
        Assert.Equal(args, DiveUpArguments.Translate(args));
        Assert.Equal("dnk", Configuration(args)["Dive:Spokes"]);
    }

    [Theory]
    [InlineData("--spokes")]
    [InlineData("--runtime", "--no-monitoring")]
    [InlineData("--replicas=")]
    public void An_option_without_its_value_is_a_clear_error(params string[] args)
    {
        var error = Assert.Throws<TopologyException>(() => DiveUpArguments.Translate(args));
        Assert.Contains("needs a value", error.Message);
    }
}
