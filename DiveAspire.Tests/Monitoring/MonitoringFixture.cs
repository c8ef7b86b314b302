using System.Text.Json;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Monitoring;

/// <summary>
/// The hub + ROU + BEL federation with monitoring on (exporter, Prometheus, Alertmanager as Debian processes), a
/// 2 s scrape interval and every alert rule's <c>for</c> shortened to 4 s so alerts fire within a test.
/// </summary>
public sealed class MonitoringFixture : FederationFixture, IAsyncLifetime
{
    public const string ScrapeInterval = "2s";
    public static readonly string[] MonitoringResources = [MonitoringNames.RedisExporter, MonitoringNames.Alertmanager, MonitoringNames.Prometheus];

    protected override IEnumerable<string> ExtraArgs =>
        ["Dive:Monitoring=true", $"Dive:Monitoring:ScrapeInterval={ScrapeInterval}", "Dive:Monitoring:AlertFor=4s"];

    public string GeneratedDirectory => Path.Combine(DataPath, "monitoring");

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        try
        {
            using var cts = new CancellationTokenSource(StartTimeout);
            await Task.WhenAll(MonitoringResources.Select(name => WaitHealthyAsync(name, cts.Token)));
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public HttpClient Prometheus() => App.CreateHttpClient(MonitoringNames.Prometheus, "http");
    public HttpClient Alertmanager() => App.CreateHttpClient(MonitoringNames.Alertmanager, "http");

    /// <summary>An instant query through Prometheus's HTTP API; fails the test on a PromQL error.</summary>
    public async Task<IReadOnlyList<Sample>> QueryAsync(string promql)
    {
        using var http = Prometheus();
        using var response = await http.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.GetProperty("status").GetString() == "success", $"query {promql} failed: {body}");
        return body.GetProperty("data").GetProperty("result").EnumerateArray().Select(Sample.From).ToList();
    }

    /// <summary>Repeats <paramref name="promql"/> until <paramref name="done"/> accepts the result (scrapes and rule evaluations take time).</summary>
    public async Task<IReadOnlyList<Sample>> QueryUntilAsync(string promql, Func<IReadOnlyList<Sample>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var result = await QueryAsync(promql);
            if (done(result))
            {
                return result;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"after {timeout.TotalSeconds:F0} s, {promql} still returns: {string.Join("; ", result)}");
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }
}

public sealed record Sample(IReadOnlyDictionary<string, string> Labels, string Value)
{
    public string this[string label] => Labels.TryGetValue(label, out var value) ? value : "";

    public static Sample From(JsonElement element) => new(
        element.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
        element.GetProperty("value")[1].GetString() ?? "");

    public override string ToString() => $"{{{string.Join(",", Labels.Select(l => $"{l.Key}={l.Value}"))}}} {Value}";
}

[CollectionDefinition(Name)]
public sealed class MonitoringCollection : ICollectionFixture<MonitoringFixture>
{
    public const string Name = "monitoring";
}
