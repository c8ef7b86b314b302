using Aspire.Hosting;

namespace DiveAspire.Tests.Unit;

/// <summary>The ports the AppHost picks for unproxied resources under randomized ports are never handed out twice.</summary>
public sealed class FreeLoopbackPortTests
{
    [Fact]
    public void A_thousand_picks_are_all_different()
    {
        // A random pick may return a port released a moment ago; among the few thousand ports of the range, 1,000 picks
        // repeat one almost surely (birthday bound), as redis-usa and redis-blacklist once shared a port in a test app.
        var ports = Enumerable.Range(0, 1000).Select(_ => BackendPort.FreeLoopbackPort()).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
    }

    [Fact]
    public void Picks_lie_below_the_kernels_ephemeral_range()
    {
        // A port inside the range, picked and released, can become an outgoing connection's source port before the
        // resource binds it (review S4); below the range only a listener can take it.
        var ephemeralLow = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0]);
        var ports = Enumerable.Range(0, 200).Select(_ => BackendPort.FreeLoopbackPort()).ToList();
        Assert.All(ports, port => Assert.InRange(port, 28000, ephemeralLow - 1));
    }

    [Theory]
    [InlineData("32768\t60999\n", 28000, 32768)]
    [InlineData("40000 50000", 28000, 40000)]
    public void The_pick_range_ends_where_the_ephemeral_range_starts(string ipLocalPortRange, int low, int high) =>
        Assert.Equal((low, high), BackendPort.BelowEphemeralRange(ipLocalPortRange));

    [Theory]
    [InlineData("1024 65535")]
    [InlineData("29000 60999")]
    [InlineData("")]
    [InlineData(null)]
    public void Without_room_below_the_ephemeral_range_the_kernel_picks(string? ipLocalPortRange) =>
        Assert.Null(BackendPort.BelowEphemeralRange(ipLocalPortRange));
}
