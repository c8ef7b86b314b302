using System.Collections.Concurrent;
using System.Diagnostics;
using DiveAspire.Backend.Redis;
using DiveAspire.Tests.Cli;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// <see cref="RecordedTraceRedisProfiler"/> against a real redis-server, with the real OpenTelemetry SDK and the services'
/// trace budget sampler: requests the budget drops are not profiled at all, recorded ones get one span per command.
/// </summary>
public sealed class RecordedTraceRedisProfilerTests : IDisposable
{
    private readonly PlainRedisServer _redis = new(password: false, aof: false);
    private readonly ActivitySource _requests = new($"DiveAspire.Tests.Requests.{Guid.NewGuid():N}");
    private readonly ConcurrentQueue<Activity> _ended = new();

    private TracerProvider Tracing(double maxTracesPerSecond) => Sdk.CreateTracerProviderBuilder()
        .AddSource(_requests.Name, RecordedTraceRedisProfiler.ActivitySourceName)
        .SetSampler(ServiceDefaultsExtensions.BudgetSampler(maxTracesPerSecond))
        .AddProcessor(new Collect(_ended))
        .Build()!;

    private async Task<IConnectionMultiplexer> ConnectAsync(RecordedTraceRedisProfiler profiler)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_redis.Port}");
        profiler.Register(connection);
        return connection;
    }

    private Activity StartRequest() => _requests.StartActivity("GET /api/resources", ActivityKind.Server)
        ?? throw new InvalidOperationException("no activity: the tracer provider does not listen to the test's source");

    private List<Activity> RedisSpansOf(ActivityTraceId trace) =>
        _ended.Where(a => a.Source.Name == RecordedTraceRedisProfiler.ActivitySourceName && a.TraceId == trace).ToList();

    [Fact]
    public async Task Requests_the_budget_drops_are_not_profiled_and_leave_no_session()
    {
        using var tracing = Tracing(maxTracesPerSecond: 1);
        using var profiler = new RecordedTraceRedisProfiler();
        await using var connection = await ConnectAsync(profiler);
        var db = connection.GetDatabase();

        Assert.Null(Activity.Current);
        await db.StringSetAsync("outside-any-request", "1");
        Assert.Null(profiler.CurrentSession());
        Assert.Equal(0, profiler.LiveSessions);

        var dropped = new List<ActivityTraceId>();
        var recorded = new List<ActivityTraceId>();
        // A budget of 1 trace/s: the first request is recorded, the next ones (within a second) are dropped.
        for (var i = 0; i < 20; i++)
        {
            using (var request = StartRequest())
            {
                await db.StringSetAsync($"key-{i}", "value");
                await db.StringGetAsync($"key-{i}");
                if (request.Recorded)
                {
                    recorded.Add(request.TraceId);
                    Assert.Equal(1, profiler.LiveSessions);
                }
                else
                {
                    dropped.Add(request.TraceId);
                    Assert.Null(profiler.CurrentSession());
                    Assert.Equal(0, profiler.LiveSessions);
                }
            }
            Assert.Equal(0, profiler.LiveSessions);
        }

        Assert.NotEmpty(recorded);
        Assert.True(dropped.Count >= 10, $"only {dropped.Count} of 20 requests dropped by a budget of 1/s");
        Assert.All(dropped, trace => Assert.Empty(RedisSpansOf(trace)));
        Assert.All(recorded, trace => Assert.Equal(2, RedisSpansOf(trace).Count));
        Assert.DoesNotContain(_ended, a => a.Source.Name == RecordedTraceRedisProfiler.ActivitySourceName && a.DisplayName == "SET" && a.ParentSpanId == default);
    }

    [Fact]
    public async Task Each_command_of_a_recorded_request_is_a_client_span_child_of_the_request_with_its_own_timing()
    {
        using var tracing = Tracing(maxTracesPerSecond: 1000);
        using var profiler = new RecordedTraceRedisProfiler();
        await using var connection = await ConnectAsync(profiler);
        var db = connection.GetDatabase(3);

        Activity request;
        using (request = StartRequest())
        {
            Assert.True(request.Recorded);
            await db.StringSetAsync("span-key", "value");
            await db.StringGetAsync("span-key");
        }

        Assert.Equal(0, profiler.LiveSessions);
        var spans = RedisSpansOf(request.TraceId);
        Assert.Equal(new[] { "SET", "GET" }, spans.OrderBy(s => s.StartTimeUtc).Select(s => s.DisplayName));
        Assert.All(spans, span =>
        {
            Assert.Contains("StackExchangeRedis", span.Source.Name, StringComparison.Ordinal);
            Assert.Equal(ActivityKind.Client, span.Kind);
            Assert.Equal(request.SpanId, span.ParentSpanId);
            Assert.Equal("redis", span.GetTagItem("db.system"));
            Assert.Equal("redis", span.GetTagItem("db.system.name"));
            Assert.Equal(span.DisplayName, span.GetTagItem("db.operation.name"));
            Assert.Equal("3", span.GetTagItem("db.namespace"));
            Assert.Equal("127.0.0.1", span.GetTagItem("server.address"));
            Assert.Equal(_redis.Port, span.GetTagItem("server.port"));
            // The command's own time (CommandCreated + ElapsedTime), within the request's, not the time of the drain.
            Assert.True(span.Duration > TimeSpan.Zero);
            Assert.InRange(span.StartTimeUtc, request.StartTimeUtc, request.StartTimeUtc + request.Duration);
            Assert.InRange(span.StartTimeUtc + span.Duration, request.StartTimeUtc, request.StartTimeUtc + request.Duration);
        });
    }

    [Fact]
    public async Task At_most_MaxSessions_recorded_activities_are_profiled_at_once()
    {
        using var tracing = Tracing(maxTracesPerSecond: 1000);
        using var profiler = new RecordedTraceRedisProfiler(maxSessions: 2);
        await using var connection = await ConnectAsync(profiler);
        var db = connection.GetDatabase();

        using (var outer = StartRequest())
        using (var middle = _requests.StartActivity("middle"))
        {
            await db.PingAsync();
            using (var inner = _requests.StartActivity("inner"))
            {
                await db.PingAsync();
                Assert.Equal(2, profiler.LiveSessions);
                using var beyondCap = _requests.StartActivity("beyond the cap");
                await db.PingAsync();
                Assert.Null(profiler.CurrentSession());
                Assert.Equal(2, profiler.LiveSessions);
            }
            Assert.Equal(1, profiler.LiveSessions);
        }
        Assert.Equal(0, profiler.LiveSessions);
    }

    [Fact]
    public async Task A_session_whose_activity_never_stops_is_drained_after_its_maximum_age()
    {
        using var tracing = Tracing(maxTracesPerSecond: 1000);
        using var profiler = new RecordedTraceRedisProfiler(maxSessions: 1, maxSessionAge: TimeSpan.FromSeconds(1));
        await using var connection = await ConnectAsync(profiler);
        var db = connection.GetDatabase();

        using var endless = StartRequest();
        await db.PingAsync();
        Assert.Equal(1, profiler.LiveSessions);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (profiler.LiveSessions > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.False(endless.IsStopped);
        Assert.Equal(0, profiler.LiveSessions);
        Assert.Contains(RedisSpansOf(endless.TraceId), span => span.ParentSpanId == endless.SpanId && span.DisplayName == "PING");
        // Its slot is free again: the next command of the same activity gets a new session (asked as the client asks for
        // each command; the count would race with the next sweep, which drains the new session too: its activity is old).
        Assert.NotNull(profiler.CurrentSession());
    }

    public void Dispose()
    {
        _requests.Dispose();
        _redis.Dispose();
    }

    private sealed class Collect(ConcurrentQueue<Activity> ended) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => ended.Enqueue(data);
    }
}
