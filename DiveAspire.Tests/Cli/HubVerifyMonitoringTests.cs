using DiveAspire.Tests.Infrastructure;
using DiveAspire.Tests.Monitoring;
using DiveAspire.Topology;
using Xunit.Abstractions;

namespace DiveAspire.Tests.Cli;

/// <summary>`dive hub verify` and `dive health` with monitoring on: all ten checks can run, and pass.</summary>
[Collection(MonitoringCollection.Name)]
public sealed class HubVerifyMonitoringTests(MonitoringFixture monitoring, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan ScrapeWait = TimeSpan.FromSeconds(90);
    private EnvironmentScope _env = null!;

    public async Task InitializeAsync() =>
        _env = (await FederationCliEnvironment.SetAsync(monitoring))
            .Set("DIVE_PROMETHEUS_URL", monitoring.App.GetEndpoint(MonitoringNames.Prometheus, "http").ToString())
            .Set("DIVE_DATA_PATH", monitoring.DataPath);

    public Task DisposeAsync()
    {
        _env.Dispose();
        return Task.CompletedTask;
    }

    private Task<CliRun> Dive(params string[] args) => CliRun.RunAsync(monitoring.Secrets.AllValues, args);

    [Fact]
    public async Task Hub_verify_passes_all_ten_checks_once_prometheus_has_scraped_every_target()
    {
        // Right after start Prometheus may not have scraped every target yet (or an alert of another test may still fire).
        var deadline = DateTime.UtcNow + ScrapeWait;
        CliRun run;
        while ((run = await Dive("hub", "verify")).ExitCode != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        output.WriteLine(run.Out);
        run.Expect(0);
        Assert.Contains("Checks passed: 10/10", run.Out);
        Assert.Contains(" 7. [PASS] every backend subscribed to revocations: 3 of 3 subscribed (USA, BEL, ROU)", run.Out);
        Assert.Contains(" 9. [PASS] monitoring targets up: 9 of 9 targets up", run.Out);
        Assert.Contains("10. [PASS] no firing critical alert", run.Out);
    }

    [Fact]
    public async Task Health_counts_the_monitoring_the_running_app_started()
    {
        var run = await Dive("health");
        output.WriteLine(run.Out);
        run.Expect(0);
        Assert.Matches(@"(?m)^prometheus\s+\S+\s+up\s", run.Out);
        Assert.Matches(@"(?m)^redis-exporter\s+\S+\s+up\s", run.Out);
        Assert.Matches(@"(?m)^alertmanager\s+\S+\s+up\s", run.Out);
        Assert.Contains("10/10 up.", run.Out);
    }
}
