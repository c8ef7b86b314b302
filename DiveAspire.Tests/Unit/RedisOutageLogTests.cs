using DiveAspire.Backend.Errors;
using DiveAspire.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DiveAspire.Tests.Unit;

/// <summary>
/// A Redis outage's 503s, per route and failure: one line at once (the failure's stack trace once), then one line per
/// interval that counts the rest, including the last ones of an outage that ends. The hung-Redis test covers it end to end.
/// </summary>
public sealed class RedisOutageLogTests : IDisposable
{
    private const string Upload = "POST /api/upload";
    private const string Decision = "GET /api/authz/decision/{resourceId}";

    private readonly LogCapture _lines = new();
    private readonly ManualClock _clock = new();
    private readonly RedisOutageLog _log;

    public RedisOutageLogTests()
    {
        var factory = LoggerFactory.Create(logging => logging.AddProvider(_lines));
        _log = new RedisOutageLog(factory.CreateLogger<RedisOutageLog>(), _clock);
    }

    public void Dispose() => _log.Dispose();

    private static readonly RedisConnectionException Failure = new(ConnectionFailureType.UnableToConnect,
        "No connection is active/available to service this operation: HSET dive-v3:resources;\r\nIOCP: (Busy=0,Free=1000)");

    private static string FirstLine(string message) => message.Split('\n')[0];

    [Fact]
    public void The_first_503_of_an_outage_is_logged_at_once_with_the_route_and_the_reason()
    {
        _log.Answered503(Upload, "POST /api/upload", Failure);

        var line = FirstLine(Assert.Single(_lines.Lines).Message);
        Assert.Contains("POST /api/upload answered 503", line);
        Assert.Contains("RedisConnectionException", line);
        Assert.Contains("No connection is active", line);
        Assert.Contains("IOCP", line);
    }

    [Fact]
    public void Further_503s_within_the_interval_are_counted_in_the_next_line_not_logged_each()
    {
        for (var i = 0; i < 1000; i++)
        {
            _log.Answered503(Decision, $"GET /api/authz/decision/USA-{i}", Failure);
        }
        Assert.Single(_lines.Lines);

        _clock.Now += RedisOutageLog.Interval - TimeSpan.FromMilliseconds(1);
        _log.Answered503(Decision, "GET /api/authz/decision/USA-x", Failure);
        Assert.Single(_lines.Lines);

        _clock.Now += TimeSpan.FromMilliseconds(1);
        _log.Answered503(Decision, "GET /api/authz/decision/USA-y", Failure);
        Assert.Equal(2, _lines.Lines.Count);
        Assert.Contains("1000 more requests answered 503", _lines.Lines[1].Message);
        Assert.Contains("GET /api/authz/decision/USA-y", _lines.Lines[1].Message);
    }

    [Fact]
    public void The_503s_counted_at_the_end_of_an_outage_are_reported_without_a_further_503()
    {
        for (var i = 0; i < 6; i++)
        {
            _log.Answered503(Upload, "POST /api/upload", Failure);
        }
        Assert.Single(_lines.Lines);

        _log.Flush();
        Assert.Equal(2, _lines.Lines.Count);
        Assert.Contains("5 more requests answered 503", _lines.Lines[1].Message);

        // Nothing left to count: the next flush says nothing, and a new outage long after starts with a first line again.
        _log.Flush();
        Assert.Equal(2, _lines.Lines.Count);
        _clock.Now += TimeSpan.FromHours(1);
        _log.Answered503(Upload, "POST /api/upload", Failure);
        Assert.Equal(3, _lines.Lines.Count);
        Assert.Contains("answered 503: a Redis store did not answer", _lines.Lines[2].Message);
    }

    [Fact]
    public void Another_route_or_another_failure_is_not_hidden_by_an_outage_already_logged()
    {
        _log.Answered503(Upload, "POST /api/upload", Failure);
        _log.Answered503(Decision, "GET /api/authz/decision/USA-SECRET-001", Failure);
        _log.Answered503(Upload, "POST /api/upload", new RedisTimeoutException("Timeout performing HSET", CommandStatus.Sent));

        Assert.Equal(3, _lines.Lines.Count);
        Assert.Contains("GET /api/authz/decision/USA-SECRET-001 answered 503", _lines.Lines[1].Message);
        Assert.Contains("RedisTimeoutException", FirstLine(_lines.Lines[2].Message));
    }

    [Fact]
    public void A_long_reason_is_cut()
    {
        _log.Answered503(Upload, "POST /api/upload", new RedisTimeoutException(new string('x', 5000), CommandStatus.Sent));
        var line = FirstLine(_lines.Lines[0].Message);
        Assert.True(line.Length < 600, line.Length.ToString());
    }
}
