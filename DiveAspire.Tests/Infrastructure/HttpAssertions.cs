using System.Text.Json;

namespace DiveAspire.Tests.Infrastructure;

public static class HttpAssertions
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    public static string Header(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : throw new Xunit.Sdk.XunitException($"header {name} missing ({(int)response.StatusCode})");

    public static bool HasHeader(this HttpResponseMessage response, string name) => response.Headers.Contains(name);

    /// <summary>A request as if relayed by a loopback reverse proxy for <paramref name="clientIp"/>.</summary>
    public static HttpRequestMessage From(this HttpRequestMessage request, string clientIp)
    {
        request.Headers.Add("X-Forwarded-For", clientIp);
        return request;
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the timeout passes.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(250);
        }
        Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for: {what}");
    }

    /// <summary>One sample of a Prometheus text-format series, e.g. dive_v3_rate_limit_store{store="memory"}.</summary>
    public static async Task<double?> MetricAsync(HttpClient http, string series)
    {
        var text = await http.GetStringAsync("/metrics");
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return null;
    }
}
