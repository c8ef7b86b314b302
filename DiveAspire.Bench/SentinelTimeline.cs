using System.Collections.Concurrent;
using System.Diagnostics;
using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Operations;
using StackExchange.Redis;

namespace DiveAspire.Bench;

/// <summary>
/// What each Sentinel knew before a drill (replicas and peer Sentinels it lists) and the events it published during
/// it (+sdown, +odown, +try-failover, +elected-leader, -failover-abort-*, +switch-master, ...: Sentinel's own pub/sub
/// channels), so a slow failover says where the time went.
/// </summary>
public sealed class SentinelTimeline : IAsyncDisposable
{
    private static readonly string[] Milestones = ["+odown", "+try-failover", "+elected-leader", "+promoted-slave", "+switch-master"];

    private readonly List<ConnectionMultiplexer> _connections = [];
    private readonly ConcurrentQueue<(TimeSpan At, string Sentinel, string Event, string Detail)> _events = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _zero;

    public IReadOnlyList<string> KnownBefore { get; private set; } = [];

    public static async Task<SentinelTimeline> StartAsync(SentinelSetup setup)
    {
        var timeline = new SentinelTimeline();
        var known = new List<string>();
        foreach (var sentinel in setup.Sentinels)
        {
            var (connection, server) = await SentinelConnector.ConnectAsync(sentinel);
            timeline._connections.Add(connection);
            var replicas = SentinelConnector.List(await SentinelConnector.SentinelAsync(server, sentinel, "REPLICAS", setup.ServiceName)).Count;
            var peers = SentinelConnector.List(await SentinelConnector.SentinelAsync(server, sentinel, "SENTINELS", setup.ServiceName)).Count;
            known.Add($"{sentinel.Name[^1]}:{replicas}r/{peers}s");
            var name = sentinel.Name;
            await connection.GetSubscriber().SubscribeAsync(RedisChannel.Pattern("*"),
                (channel, message) => timeline._events.Enqueue((timeline._clock.Elapsed - timeline._zero, name, channel.ToString(), message.ToString())));
        }
        timeline.KnownBefore = known;
        return timeline;
    }

    /// <summary>The moment events are timed from (the kill).</summary>
    public void MarkFault() => _zero = _clock.Elapsed;

    /// <summary>When the first Sentinel published +switch-master, seconds after the fault (null: none yet).</summary>
    public double? SwitchedAt => _events.Where(e => e.Event == "+switch-master").Select(e => (double?)e.At.TotalSeconds).Min();

    /// <summary>One line: each milestone's first time after the fault, aborts and retries counted.</summary>
    public string Summary()
    {
        var events = _events.ToList();
        var parts = Milestones.Select(m => events.Where(e => e.Event == m).Select(e => e.At.TotalSeconds).DefaultIfEmpty(double.NaN).Min() is var t && !double.IsNaN(t)
            ? $"{m} {Report.F(t, 1)} s" : $"{m} -").ToList();
        var aborts = events.Where(e => e.Event.StartsWith("-failover-abort", StringComparison.Ordinal)).ToList();
        parts.Add($"{events.Count(e => e.Event == "+try-failover")} try-failover, {aborts.Count} aborts" +
            (aborts.Count == 0 ? "" : $" ({string.Join(", ", aborts.Select(a => $"{a.Sentinel[^1]} {a.Event} {Report.F(a.At.TotalSeconds, 1)} s").Distinct().Take(4))})"));
        return string.Join("; ", parts);
    }

    /// <summary>Every event (for a slow drill): time, Sentinel, channel, message.</summary>
    public IEnumerable<string> Events() =>
        _events.Where(e => e.Event is not ("__sentinel__:hello")).Select(e => $"{Report.F(e.At.TotalSeconds, 2),7} s {e.Sentinel[^1]} {e.Event} {e.Detail}");

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }
}
