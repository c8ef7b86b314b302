using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace DiveAspire.Cli.Operations;

public sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>One active scrape target: health is "up", "down" or "unknown" (not scraped yet).</summary>
public sealed record PrometheusTarget(string Job, string Instance, string Health);

public sealed record PrometheusAlert(string Name, string State, string? Instance, string? Severity, string? Summary, DateTimeOffset? ActiveAt);

/// <summary>Reads Prometheus's HTTP API (instant queries and active alerts).</summary>
public sealed class PrometheusOperations(Uri baseAddress) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(3) })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(15),
    };

    public async Task<IReadOnlyList<PrometheusSample>> QueryAsync(string promql, CancellationToken ct = default)
    {
        using var doc = await GetAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}", ct).ConfigureAwait(false);
        var result = doc.RootElement.GetProperty("data").GetProperty("result");
        return result.EnumerateArray().Select(series => new PrometheusSample(
            series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
            double.Parse(series.GetProperty("value")[1].GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture))).ToList();
    }

    /// <summary>Every active target, also the ones not scraped yet (which the <c>up</c> query does not list).</summary>
    public async Task<IReadOnlyList<PrometheusTarget>> TargetsAsync(CancellationToken ct = default)
    {
        using var doc = await GetAsync("/api/v1/targets?state=active", ct).ConfigureAwait(false);
        return doc.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray().Select(target =>
        {
            var labels = target.GetProperty("labels");
            string Label(string name) => labels.TryGetProperty(name, out var v) ? v.GetString() ?? "" : "";
            return new PrometheusTarget(Label("job"), Label("instance"), target.GetProperty("health").GetString() ?? "unknown");
        }).ToList();
    }

    public async Task<IReadOnlyList<PrometheusAlert>> AlertsAsync(CancellationToken ct = default)
    {
        using var doc = await GetAsync("/api/v1/alerts", ct).ConfigureAwait(false);
        return doc.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray().Select(alert =>
        {
            var labels = alert.GetProperty("labels");
            string? Label(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;
            var annotations = alert.TryGetProperty("annotations", out var a) ? a : default;
            return new PrometheusAlert(
                Label(labels, "alertname") ?? "?",
                alert.GetProperty("state").GetString() ?? "?",
                Label(labels, "instance") ?? Label(labels, "redis") ?? Label(labels, "job"),
                Label(labels, "severity"),
                annotations.ValueKind == JsonValueKind.Object ? Label(annotations, "summary") : null,
                alert.TryGetProperty("activeAt", out var at) && at.TryGetDateTimeOffset(out var when) ? when : null);
        }).ToList();
    }

    private async Task<JsonDocument> GetAsync(string path, CancellationToken ct)
    {
        var where = _http.BaseAddress!.GetLeftPart(UriPartial.Authority);
        try
        {
            using var response = await _http.GetAsync(path, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new CliException($"Prometheus at {where} answered {(int)response.StatusCode} {response.StatusCode} for {path.Split('?')[0]}.");
            }
            var doc = await response.Content.ReadFromJsonAsync<JsonDocument>(ct).ConfigureAwait(false);
            if (doc is null || !doc.RootElement.TryGetProperty("status", out var status) || status.GetString() != "success")
            {
                doc?.Dispose();
                throw new CliException($"Prometheus at {where} answered an error for {path.Split('?')[0]}.");
            }
            return doc;
        }
        catch (HttpRequestException)
        {
            throw new CliException($"Prometheus is not running at {where} (connection refused): start the stack with monitoring ('./dive up'), or set DIVE_PROMETHEUS_URL.");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CliException($"Prometheus at {where} did not answer within 15 s.");
        }
        catch (JsonException)
        {
            throw new CliException($"{where} did not answer like Prometheus (not JSON): is DIVE_PROMETHEUS_URL right?");
        }
    }

    public void Dispose() => _http.Dispose();
}
