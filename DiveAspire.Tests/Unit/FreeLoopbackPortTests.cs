using Aspire.Hosting;

namespace DiveAspire.Tests.Unit;

/// <summary>The ports the AppHost picks for unproxied resources under randomized ports are never handed out twice.</summary>
public sealed class FreeLoopbackPortTests
{
    [Fact]
    public void Two_thousand_picks_are_all_different()
    {
        // The kernel's bind(0) may return a port released a moment ago; among ~28,000 ephemeral ports, 2,000 picks
        // repeat one almost surely (birthday bound), as redis-usa and redis-blacklist once shared a port in a test app.
        var ports = Enumerable.Range(0, 2000).Select(_ => BackendPort.FreeLoopbackPort()).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
    }
}
