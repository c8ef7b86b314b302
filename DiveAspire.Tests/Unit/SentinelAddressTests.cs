using System.Net;
using DiveAspire.Backend.Redis;

namespace DiveAspire.Tests.Unit;

/// <summary>
/// What the HA client treats as "this machine" when a Sentinel beyond loopback names a data node (review M1 of session 7):
/// every address a connection to which lands here, not only 127.0.0.1.
/// </summary>
public sealed class SentinelAddressTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("::ffff:127.0.0.2")]
    [InlineData("::ffff:0.0.0.0")]
    public void Addresses_that_reach_this_machine(string address) =>
        Assert.True(SentinelPrimary.ReachesThisMachine(new IPEndPoint(IPAddress.Parse(address), 6479)), address);

    [Theory]
    [InlineData("localhost")]
    [InlineData("localhost.")]
    [InlineData("LOCALHOST")]
    [InlineData("127.0.0.1")]
    public void Names_that_reach_this_machine(string host) =>
        Assert.True(SentinelPrimary.ReachesThisMachine(new DnsEndPoint(host, 6479)), host);

    [Theory]
    [InlineData("192.0.2.10")]
    [InlineData("10.1.2.3")]
    [InlineData("::ffff:192.0.2.10")]
    [InlineData("2001:db8::1")]
    public void Other_addresses_do_not(string address) =>
        Assert.False(SentinelPrimary.ReachesThisMachine(new IPEndPoint(IPAddress.Parse(address), 6479)), address);
}
