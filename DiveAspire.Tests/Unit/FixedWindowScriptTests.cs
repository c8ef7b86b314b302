using DiveAspire.Backend.RateLimiting;
using DiveAspire.Tests.Cli;
using StackExchange.Redis;

namespace DiveAspire.Tests.Unit;

/// <summary>
/// The fixed-window script on a real redis-server: its two ways of deciding a hit (count first, or read first for a
/// client refused lately) give the same answers and leave the same counter; a rejection counts nothing; the TTL is set
/// once per window; a refund never goes below 0.
/// </summary>
public sealed class FixedWindowScriptTests : IDisposable
{
    private static readonly LimitRule Rule = new(3, TimeSpan.FromSeconds(60));

    private readonly PlainRedisServer _redis = new(password: false, aof: false);
    private readonly ConnectionMultiplexer _connection;
    private readonly IDatabase _db;

    public FixedWindowScriptTests()
    {
        _connection = ConnectionMultiplexer.Connect(_redis.Endpoint);
        _db = _connection.GetDatabase();
    }

    public void Dispose()
    {
        _connection.Dispose();
        _redis.Dispose();
    }

    private async Task<WindowResult> RunAsync(FixedWindow.Call call, WindowMode mode, bool refusedLately = false)
    {
        var arguments = call.Arguments(mode, refusedLately);
        try
        {
            return FixedWindow.Parse(await FixedWindow.StartAsync(_db, call, arguments));
        }
        catch (Exception ex) when (FixedWindow.IsNoScript(ex))
        {
            return FixedWindow.Parse(await FixedWindow.SendScriptAsync(_db, call, arguments));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Admits_max_per_window_and_a_rejection_counts_nothing(bool refusedLately)
    {
        var call = new FixedWindow.Call("dive-v3:rate-limit:api:test", Rule);
        for (var i = 1; i <= 3; i++)
        {
            var admitted = await RunAsync(call, WindowMode.Hit, refusedLately);
            Assert.True(admitted.Admitted);
            Assert.Equal(i, admitted.Count);
            Assert.InRange(admitted.ResetAfter, TimeSpan.FromSeconds(59), TimeSpan.FromSeconds(60));
        }
        var ttlAfterFirst = await _db.KeyTimeToLiveAsync(call.Key);
        for (var i = 0; i < 5; i++)
        {
            // Either way of deciding, whatever the client's recent history: refused, the counter stays at max.
            var refused = await RunAsync(call, WindowMode.Hit, refusedLately: i % 2 == 0);
            Assert.False(refused.Admitted);
            Assert.Equal(3, refused.Count);
            Assert.Equal(0, refused.Remaining(Rule));
            Assert.Equal(3, (long)await _db.StringGetAsync(call.Key));
        }
        // Set once, when the window opened: neither later admissions nor rejections moved it.
        var ttl = await _db.KeyTimeToLiveAsync(call.Key);
        Assert.NotNull(ttl);
        Assert.True(ttl <= ttlAfterFirst, $"TTL {ttl} grew beyond {ttlAfterFirst}");
    }

    [Fact]
    public async Task A_refund_gives_one_slot_back_and_never_goes_below_zero()
    {
        var call = new FixedWindow.Call("dive-v3:rate-limit:auth:test", Rule);
        Assert.True((await RunAsync(call, WindowMode.Hit)).Admitted);
        var refunded = await RunAsync(call, WindowMode.Refund);
        Assert.True(refunded.Admitted);
        Assert.Equal(0, refunded.Count);
        var again = await RunAsync(call, WindowMode.Refund);
        Assert.Equal(0, again.Count);
        Assert.Equal(0, (long)await _db.StringGetAsync(call.Key));
        // A refund on a window that does not exist creates nothing.
        var absent = new FixedWindow.Call("dive-v3:rate-limit:auth:absent", Rule);
        Assert.Equal(0, (await RunAsync(absent, WindowMode.Refund)).Count);
        Assert.False(await _db.KeyExistsAsync(absent.Key));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_counter_found_without_a_ttl_gets_one_on_its_next_admission_but_not_on_a_rejection(bool refusedLately)
    {
        var call = new FixedWindow.Call("dive-v3:rate-limit:api:no-ttl", Rule);
        await _db.StringSetAsync(call.Key, 1);
        var admitted = await RunAsync(call, WindowMode.Hit, refusedLately);
        Assert.True(admitted.Admitted);
        Assert.Equal(2, admitted.Count);
        Assert.Equal(Rule.Window, admitted.ResetAfter);
        Assert.NotNull(await _db.KeyTimeToLiveAsync(call.Key));

        var full = new FixedWindow.Call("dive-v3:rate-limit:api:full-no-ttl", Rule);
        await _db.StringSetAsync(full.Key, 7);
        var refused = await RunAsync(full, WindowMode.Hit, refusedLately);
        Assert.False(refused.Admitted);
        Assert.Equal(7, refused.Count);
        Assert.Equal(Rule.Window, refused.ResetAfter);
        Assert.Equal(7, (long)await _db.StringGetAsync(full.Key));
        Assert.Null(await _db.KeyTimeToLiveAsync(full.Key));
    }

    [Fact]
    public async Task Concurrent_hits_in_both_modes_admit_exactly_max()
    {
        var rule = new LimitRule(50, TimeSpan.FromSeconds(60));
        var call = new FixedWindow.Call("dive-v3:rate-limit:api:concurrent", rule);
        var results = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => RunAsync(call, WindowMode.Hit, refusedLately: i % 3 == 0)));
        Assert.Equal(50, results.Count(r => r.Admitted));
        Assert.All(results, r => Assert.InRange(r.Count, 1, 50));
        Assert.Equal(50, (long)await _db.StringGetAsync(call.Key));
    }
}
