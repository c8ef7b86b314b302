using System.Text.Json;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Monitoring;

/// <summary>
/// Issue 14 operations on the real AppHost: the hub alone with the HA shared store (primary, two replicas, three
/// Sentinels) and monitoring on (Debian exporter, Prometheus, Alertmanager), a 2 s scrape interval and every alert's
/// <c>for</c> shortened to 4 s.
/// </summary>
public sealed class HaOperationsFixture : FederationFixture, IAsyncLifetime
{
    public override string Spokes => "none";

    protected override IEnumerable<string> ExtraArgs =>
        [AppHostArgs.HighAvailability, "Dive:Monitoring=true", $"Dive:Monitoring:ScrapeInterval={MonitoringFixture.ScrapeInterval}", "Dive:Monitoring:AlertFor=4s"];

    public BlacklistHighAvailability Ha => Topology.BlacklistHa!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        try
        {
            using var cts = new CancellationTokenSource(StartTimeout);
            await Task.WhenAll(MonitoringFixture.MonitoringResources.Concat(Ha.ResourceNames).Select(name => WaitHealthyAsync(name, cts.Token)));
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>Repeats an instant query until <paramref name="done"/> accepts the result.</summary>
    public async Task<IReadOnlyList<Sample>> QueryUntilAsync(string promql, Func<IReadOnlyList<Sample>, bool> done, TimeSpan timeout)
    {
        using var http = App.CreateHttpClient(MonitoringNames.Prometheus, "http");
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var response = await http.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.True(body.GetProperty("status").GetString() == "success", $"query {promql} failed: {body}");
            var result = body.GetProperty("data").GetProperty("result").EnumerateArray().Select(Sample.From).ToList();
            if (done(result))
            {
                return result;
            }
            Assert.True(DateTime.UtcNow < deadline, $"after {timeout.TotalSeconds:F0} s, {promql} still returns: {string.Join("; ", result)}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class HaOperationsCollection : ICollectionFixture<HaOperationsFixture>
{
    public const string Name = "ha-operations";
}
