using DiveAspire.Backend.Errors;
using DiveAspire.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DiveAspire.Tests.Unit;

/// <summary>A Redis outage's 503s: one line at once, then one line per interval that counts the rest; never a stack trace.</summary>
public sealed class RedisOutageLogTests
{
    private static (RedisOutageLog Log, LogCapture Lines, ManualClock Clock) Create()
    {
        var lines = new LogCapture();
        var clock = new ManualClock();
        var factory = LoggerFactory.Create(logging => logging.AddProvider(lines));
        return (new RedisOutageLog(factory.CreateLogger<RedisOutageLog>(), clock), lines, clock);
    }

    private static readonly RedisConnectionException Failure = new(ConnectionFailureType.UnableToConnect,
        "No connection is active/available to service this operation: HSET dive-v3:resources;\r\nIOCP: (Busy=0,Free=1000)");

    [Fact]
    public void The_first_503_of_an_outage_is_one_line_with_the_route_and_the_reason_and_no_stack_trace()
    {
        var (log, lines, _) = Create();
        Exception thrown;
        try
        {
            throw Failure;
        }
        catch (RedisConnectionException ex)
        {
            thrown = ex;
        }

        log.Answered503("POST /api/upload", thrown);

        var line = Assert.Single(lines.Lines).Message;
        Assert.Contains("POST /api/upload answered 503", line);
        Assert.Contains("RedisConnectionException", line);
        Assert.Contains("No connection is active", line);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain(" at ", line);
    }

    [Fact]
    public void Further_503s_within_the_interval_are_counted_in_the_next_line_not_logged_each()
    {
        var (log, lines, clock) = Create();
        for (var i = 0; i < 1000; i++)
        {
            log.Answered503("POST /api/upload", Failure);
        }
        Assert.Single(lines.Lines);

        clock.Now += RedisOutageLog.Interval - TimeSpan.FromMilliseconds(1);
        log.Answered503("POST /api/upload", Failure);
        Assert.Single(lines.Lines);

        clock.Now += TimeSpan.FromMilliseconds(1);
        log.Answered503("GET /api/authz/decision/USA-SECRET-001", Failure);
        Assert.Equal(2, lines.Lines.Count);
        Assert.Contains("1000 more requests answered 503", lines.Lines[1].Message);
        Assert.Contains("GET /api/authz/decision/USA-SECRET-001", lines.Lines[1].Message);

        // A new outage long after: a first line again, nothing left to count.
        clock.Now += TimeSpan.FromHours(1);
        log.Answered503("POST /api/upload", Failure);
        Assert.Equal(3, lines.Lines.Count);
        Assert.DoesNotContain("more requests", lines.Lines[2].Message);
    }

    [Fact]
    public void A_long_reason_is_cut()
    {
        var (log, lines, _) = Create();
        log.Answered503("POST /api/upload", new RedisTimeoutException(new string('x', 5000), CommandStatus.Sent));
        Assert.True(lines.Lines[0].Message.Length < 500, lines.Lines[0].Message.Length.ToString());
    }
}
