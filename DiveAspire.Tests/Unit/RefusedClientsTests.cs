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

    [Fact]
    public async Task Concurrent_refusals_and_admissions_keep_the_memo_working()
    {
        // Review S1: a refresh racing with an admission's removal re-added the key uncounted; the count then fell below
        // the map's size and a later refusal was no longer seen.
        var refused = new RefusedClients(new ManualClock());
        var keys = Enumerable.Range(0, 4).Select(i => $"k{i}").ToArray();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                refused.Record(keys[(i + worker) % keys.Length], (i + worker) % 3 == 0 ? Admitted : Refused(60));
            }
        })));
        foreach (var key in keys)
        {
            refused.Record(key, Admitted);
            Assert.False(refused.IsRefused(key));
        }
        Assert.False(refused.Any);
        refused.Record("after", Refused(60));
        Assert.True(refused.IsRefused("after"));
    }
}
