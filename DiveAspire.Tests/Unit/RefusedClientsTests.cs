using DiveAspire.Backend.RateLimiting;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Unit;

/// <summary>The memo that lets a refused caller's requests skip the catalog read: exact per window, expiring, bounded.</summary>
public sealed class RefusedClientsTests
{
    private static WindowResult Refused(int seconds) => new(100, TimeSpan.FromSeconds(seconds), Admitted: false);
    private static readonly WindowResult Admitted = new(1, TimeSpan.FromSeconds(900), Admitted: true);

    [Fact]
    public void A_window_is_refused_from_its_refusal_until_it_resets_or_admits()
    {
        var clock = new ManualClock();
        var refused = new RefusedClients(clock);
        Assert.False(refused.Any);
        refused.Record("a", Refused(60));
        Assert.True(refused.IsRefused("a"));
        Assert.False(refused.IsRefused("b"));

        clock.Now += TimeSpan.FromSeconds(59);
        Assert.True(refused.IsRefused("a"));
        clock.Now += TimeSpan.FromSeconds(1);
        Assert.False(refused.IsRefused("a"));

        refused.Record("a", Refused(60));
        refused.Record("a", Admitted);
        Assert.False(refused.IsRefused("a"));
        Assert.False(refused.Any);
    }

    [Fact]
    public void Live_refusals_are_bounded_and_expired_ones_make_room()
    {
        var clock = new ManualClock();
        var refused = new RefusedClients(clock);
        for (var i = 0; i < RefusedClients.MaxEntries + 5; i++)
        {
            refused.Record($"k{i}", Refused(60));
        }
        Assert.True(refused.IsRefused("k0"));
        Assert.True(refused.IsRefused($"k{RefusedClients.MaxEntries - 1}"));
        Assert.False(refused.IsRefused($"k{RefusedClients.MaxEntries}"));

        clock.Now += TimeSpan.FromSeconds(61);
        refused.Record("late", Refused(60));
        Assert.True(refused.IsRefused("late"));
        Assert.False(refused.IsRefused("k0"));
    }
}
