using System.Collections.Concurrent;

namespace DiveAspire.Backend.Errors;

/// <summary>
/// Requests answered 503 because a Redis store failed, logged as an outage rather than one by one, per route and kind of
/// failure (so that one store's outage never hides another's): the first at once, with the failure (its stack trace
/// once, since a timeout or cancellation can also come from elsewhere than the Redis client), then at most one line per
/// <see cref="Interval"/> that counts the requests answered 503 since, the last of them also when no further 503 follows
/// (<see cref="Flush"/>, every interval). At thousands of requests a second, an error with a stack trace for each one
/// drowned the log and the dashboard's structured logs, and the export cost the backend more CPU than the 503s.
/// </summary>
public sealed class RedisOutageLog : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>The failure's message is the Redis client's, one line but with its diagnostics: enough to say why.</summary>
    private const int MaxReasonLength = 300;

    private readonly ILogger<RedisOutageLog> _logger;
    private readonly TimeProvider _clock;
    private readonly ITimer _flush;

    /// <summary>Keyed by route pattern (not path: bounded) and failure type.</summary>
    private readonly ConcurrentDictionary<(string Route, string Failure), Gate> _gates = new();

    public RedisOutageLog(ILogger<RedisOutageLog> logger, TimeProvider clock)
    {
        _logger = logger;
        _clock = clock;
        _flush = clock.CreateTimer(_ => Flush(), null, Interval, Interval);
    }

    private sealed class Gate
    {
        public readonly Lock Lock = new();
        public DateTimeOffset QuietUntil = DateTimeOffset.MinValue;
        public long NotLogged;
        public string LastRequest = "";
        public Exception? LastFailure;
    }

    /// <param name="route">the endpoint's route pattern (e.g. <c>POST /api/authz/decision/{resourceId}</c>).</param>
    /// <param name="request">the request as received, for the line.</param>
    public void Answered503(string route, string request, Exception failure)
    {
        var gate = _gates.GetOrAdd((route, failure.GetType().Name), static _ => new Gate());
        var now = _clock.GetUtcNow();
        long before;
        lock (gate.Lock)
        {
            if (now < gate.QuietUntil)
            {
                gate.NotLogged++;
                gate.LastRequest = request;
                gate.LastFailure = failure;
                return;
            }
            before = gate.NotLogged;
            gate.NotLogged = 0;
            gate.QuietUntil = now + Interval;
        }
        if (before == 0)
        {
            // A first line after a quiet interval: a new outage, with the stack trace once.
            _logger.LogWarning(failure, "{Request} answered 503: a Redis store did not answer ({Failure}: {Reason}); further 503s of this route for this failure are counted, one line per {Seconds} s",
                request, failure.GetType().Name, Reason(failure), Interval.TotalSeconds);
        }
        else
        {
            Counted(before, request, failure);
        }
    }

    /// <summary>Logs what each route counted since its last line (called every <see cref="Interval"/>).</summary>
    public void Flush()
    {
        var now = _clock.GetUtcNow();
        foreach (var gate in _gates.Values)
        {
            long count;
            string request;
            Exception? failure;
            lock (gate.Lock)
            {
                if (gate.NotLogged == 0 || gate.LastFailure is null)
                {
                    continue;
                }
                (count, request, failure) = (gate.NotLogged, gate.LastRequest, gate.LastFailure);
                gate.NotLogged = 0;
                gate.QuietUntil = now + Interval;
            }
            Counted(count, request, failure);
        }
    }

    private void Counted(long count, string request, Exception failure) =>
        _logger.LogWarning("{Count} more requests answered 503 for a Redis failure since the last such line, the latest {Request} ({Failure}: {Reason})",
            count, request, failure.GetType().Name, Reason(failure));

    private static string Reason(Exception failure)
    {
        var reason = failure.Message.ReplaceLineEndings(" ");
        return reason.Length > MaxReasonLength ? reason[..MaxReasonLength] + "..." : reason;
    }

    public void Dispose() => _flush.Dispose();
}
