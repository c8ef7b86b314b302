using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace DiveAspire.Backend.Redis;

/// <summary>
/// Redis command spans for recorded traces only. StackExchange.Redis profiles a command only when the session provider
/// returns a session: this one returns none unless <see cref="Activity.Current"/> is recorded (within the trace budget),
/// so a request the budget drops costs nothing here. A recorded activity gets one session; when it stops, each command
/// it ran becomes a client span, its child, with the command's own start and duration.
/// </summary>
/// <remarks>
/// Replaces the client integration's tracing (OpenTelemetry's StackExchange.Redis instrumentation), which profiles every
/// command of every request and keeps each request's activity and session for 10 s after it ends: at 10,000 requests/s
/// about 100,000 of them, live into gen2 (docs/benchmarks.md, session 8). Sessions are drained when their activity stops
/// (an <see cref="ActivityListener"/>); a sweep each <see cref="SweepInterval"/> drains those whose stop it did not see
/// (e.g. a command that started a session after its activity stopped) and those older than 30 s (an activity that never
/// stops: its commands so far become spans), and at most <see cref="MaxSessions"/> live at once.
/// </remarks>
public sealed class RecordedTraceRedisProfiler : IDisposable
{
    /// <summary>The spans' source; its name contains "StackExchangeRedis" like the instrumentation's it replaces.</summary>
    public const string ActivitySourceName = "DiveAspire.StackExchangeRedis";

    public const int DefaultMaxSessions = 1024;

    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    private static readonly ActivitySource Source = new(ActivitySourceName);

    /// <summary>Sessions started: one per recorded activity that ran a Redis command, none for a request the budget drops.</summary>
    public static readonly Prometheus.Counter SessionsStarted = Prometheus.Metrics.CreateCounter(
        "dive_v3_redis_profiling_sessions_total", "Redis profiling sessions started (one per recorded activity that ran a Redis command).");

    public static readonly Prometheus.Gauge SessionsLive = Prometheus.Metrics.CreateGauge(
        "dive_v3_redis_profiling_sessions", "Redis profiling sessions held now (recorded activities not drained into spans yet).");

    // Keyed by the activity itself (reference equality): nothing but the live recorded activities and their commands.
    private readonly ConcurrentDictionary<Activity, ProfilingSession> _sessions = new(ReferenceEqualityComparer.Instance);
    private readonly ActivityListener _listener;
    private readonly Timer _sweep;
    private int _liveSessions;

    /// <summary>A session older than this is drained even if its activity never stops (review S2: else it held a slot for good).</summary>
    public static readonly TimeSpan DefaultMaxSessionAge = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _maxSessionAge;

    public RecordedTraceRedisProfiler(int maxSessions = DefaultMaxSessions, TimeSpan? maxSessionAge = null)
    {
        MaxSessions = maxSessions;
        _maxSessionAge = maxSessionAge ?? DefaultMaxSessionAge;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name != ActivitySourceName,
            ActivityStopped = Drain,
        };
        ActivitySource.AddActivityListener(_listener);
        _sweep = new Timer(_ => Sweep(), null, SweepInterval, SweepInterval);
    }

    public int MaxSessions { get; }

    /// <summary>Sessions held now: one per recorded activity that ran a Redis command and has not been drained yet.</summary>
    public int LiveSessions => Volatile.Read(ref _liveSessions);

    public void Register(IConnectionMultiplexer connection) => connection.RegisterProfiler(CurrentSession);

    /// <summary>The session of the current activity if it is recorded (and anyone listens to the spans); else null: no profiling.</summary>
    public ProfilingSession? CurrentSession()
    {
        var activity = Activity.Current;
        if (activity is null || !activity.Recorded || !activity.IsAllDataRequested || activity.IsStopped || !Source.HasListeners())
        {
            return null;
        }
        if (_sessions.TryGetValue(activity, out var session))
        {
            return session;
        }
        // The slot is taken before the session is added, so concurrent first commands cannot go past the cap (review S3).
        if (Interlocked.Increment(ref _liveSessions) > MaxSessions)
        {
            Interlocked.Decrement(ref _liveSessions);
            return null;
        }
        var created = new ProfilingSession();
        if (_sessions.TryAdd(activity, created))
        {
            SessionsStarted.Inc();
            SessionsLive.Inc();
            return created;
        }
        Interlocked.Decrement(ref _liveSessions);
        return _sessions.TryGetValue(activity, out session) ? session : null;
    }

    private void Drain(Activity activity)
    {
        if (!activity.Recorded || LiveSessions == 0 || !_sessions.TryRemove(activity, out var session))
        {
            return;
        }
        Interlocked.Decrement(ref _liveSessions);
        SessionsLive.Dec();
        foreach (var command in session.FinishProfiling())
        {
            Emit(activity.Context, command);
        }
    }

    private void Sweep()
    {
        if (LiveSessions == 0)
        {
            return;
        }
        // The dictionary's enumerator takes no locks (its Keys property would take them all).
        var startedBefore = DateTime.UtcNow - _maxSessionAge;
        foreach (var (activity, _) in _sessions)
        {
            if (activity.IsStopped || activity.StartTimeUtc < startedBefore)
            {
                Drain(activity);
            }
        }
    }

    private static void Emit(ActivityContext parent, IProfiledCommand command)
    {
        using var span = Source.StartActivity(command.Command, ActivityKind.Client, parent, startTime: command.CommandCreated);
        if (span is null)
        {
            return;
        }
        if (span.IsAllDataRequested)
        {
            span.SetTag("db.system", "redis");
            span.SetTag("db.system.name", "redis");
            span.SetTag("db.operation.name", command.Command);
            span.SetTag("db.namespace", command.Db.ToString(CultureInfo.InvariantCulture));
            span.SetTag("db.redis.database_index", command.Db);
            var (address, port) = command.EndPoint switch
            {
                IPEndPoint ip => (ip.Address.ToString(), ip.Port),
                DnsEndPoint dns => (dns.Host, dns.Port),
                _ => ((string?)null, 0),
            };
            if (address is not null)
            {
                span.SetTag("server.address", address);
                span.SetTag("server.port", port);
            }
        }
        span.SetEndTime(command.CommandCreated + command.ElapsedTime);
    }

    public void Dispose()
    {
        _sweep.Dispose();
        _listener.Dispose();
    }
}
