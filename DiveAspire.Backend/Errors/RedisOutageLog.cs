namespace DiveAspire.Backend.Errors;

/// <summary>
/// Requests answered 503 because a Redis store failed, logged as an outage rather than one by one: the first at once, as one
/// warning line with the route and the failure and no stack trace (an outage is not a bug in this code), then at most one
/// line per <see cref="Interval"/>, which counts the requests answered 503 since the line before. At thousands of requests
/// a second, an error with a stack trace for each one drowned the log and the dashboard's structured logs, and the
/// export cost the backend more CPU than serving the 503s.
/// </summary>
public sealed class RedisOutageLog(ILogger<RedisOutageLog> logger, TimeProvider clock)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>The failure's message is the Redis client's, one line but with its diagnostics: enough to say why.</summary>
    private const int MaxReasonLength = 300;

    private readonly Lock _gate = new();
    private DateTimeOffset _quietUntil = DateTimeOffset.MinValue;
    private long _notLogged;

    public void Answered503(string request, Exception failure)
    {
        var now = clock.GetUtcNow();
        long before;
        lock (_gate)
        {
            if (now < _quietUntil)
            {
                _notLogged++;
                return;
            }
            before = _notLogged;
            _notLogged = 0;
            _quietUntil = now + Interval;
        }
        var reason = failure.Message.ReplaceLineEndings(" ");
        if (reason.Length > MaxReasonLength)
        {
            reason = reason[..MaxReasonLength] + "...";
        }
        if (before == 0)
        {
            logger.LogWarning("{Request} answered 503: a Redis store did not answer ({Failure}: {Reason})", request, failure.GetType().Name, reason);
        }
        else
        {
            logger.LogWarning("{Request} answered 503: a Redis store did not answer ({Failure}: {Reason}); {Count} more requests answered 503 for a Redis failure since the last such line",
                request, failure.GetType().Name, reason, before);
        }
    }
}
