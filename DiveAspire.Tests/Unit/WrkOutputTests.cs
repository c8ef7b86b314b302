using DiveAspire.Bench;

namespace DiveAspire.Tests.Unit;

/// <summary>The bench's reading of wrk's summary (wrk 4.1, run with --latency), on wrk's own output format.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class WrkOutputTests
{
    private const string Output = """
        Running 10s test @ http://127.0.0.1:4025/api/resources
          2 threads and 32 connections
          Thread Stats   Avg      Stdev     Max   +/- Stdev
            Latency     2.91ms    3.02ms  61.23ms   90.12%
            Req/Sec     6.21k   712.33     7.88k    71.50%
          Latency Distribution
             50%  402.00us
             75%    2.65ms
             90%    5.10ms
             99%    1.02s
          123561 requests in 10.01s, 98.40MB read
          Socket errors: connect 0, read 3, write 1, timeout 2
          Non-2xx or 3xx responses: 17
        Requests/sec:  12343.75
        Transfer/sec:      9.83MB
        """;

    [Fact]
    public void Reads_the_rate_the_request_count_the_percentiles_in_every_unit_and_the_failures()
    {
        var result = Wrk.Parse(Output);
        Assert.Equal(123561, result.Requests);
        Assert.Equal(10.01, result.Seconds, 3);
        Assert.Equal(12343.75, result.RequestsPerSecond, 2);
        Assert.Equal(0.402, result.P50Ms, 6);
        Assert.Equal(1020, result.P99Ms, 6);
        Assert.Equal(17, result.Non2xx);
        Assert.Equal(4, result.SocketErrors);
        Assert.Equal(2, result.Timeouts);
    }

    [Fact]
    public void A_clean_run_has_no_failures()
    {
        var clean = string.Join('\n', Output.Split('\n').Where(l => !l.Contains("errors") && !l.Contains("Non-2xx")));
        var result = Wrk.Parse(clean);
        Assert.Equal(0, result.Non2xx);
        Assert.Equal(0, result.SocketErrors);
        Assert.Equal(0, result.Timeouts);
    }

    [Fact]
    public void An_output_without_the_latency_distribution_is_an_error_not_a_zero()
    {
        var withoutLatency = string.Join('\n', Output.Split('\n').Where(l => !l.TrimStart().StartsWith("50%") && !l.TrimStart().StartsWith("99%")));
        var ex = Assert.Throws<InvalidOperationException>(() => Wrk.Parse(withoutLatency));
        Assert.Contains("--latency", ex.Message);
    }
}
