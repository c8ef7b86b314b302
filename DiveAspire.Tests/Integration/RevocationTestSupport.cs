using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using DiveAspire.Backend.Revocation;
using DiveAspire.Tests.Infrastructure;
using StackExchange.Redis;

namespace DiveAspire.Tests.Integration;

/// <summary>Small helpers shared by the revocation tests: JSON calls, polling with a deadline, reading /metrics.</summary>
public static class RevocationTestSupport
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(text.Length > 0, $"{method} {path} -> {(int)response.StatusCode} with an empty body");
        JsonElement body;
        try
        {
            body = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new Xunit.Sdk.XunitException($"{method} {path} -> {(int)response.StatusCode}, body is not JSON: {text}");
        }
        return (response.StatusCode, body);
    }

    public static Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string path, string? json = null) =>
        SendAsync(http, HttpMethod.Post, path, json ?? "");

    public static Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient http, string path) =>
        SendAsync(http, HttpMethod.Get, path);

    public static string Message(JsonElement body) => body.GetProperty("message").GetString()!;

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task<TimeSpan> EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, int pollMs = 100)
    {
        var watch = Stopwatch.StartNew();
        var limit = timeout ?? Patience;
        while (true)
        {
            if (await condition())
            {
                return watch.Elapsed;
            }
            if (watch.Elapsed > limit)
            {
                throw new Xunit.Sdk.XunitException($"timed out after {limit.TotalSeconds:F0} s waiting for: {what}");
            }
            await Task.Delay(pollMs);
        }
    }

    /// <summary>
    /// Publishes a user revocation of <paramref name="victim"/> on the user channel every 200 ms (in case the first is early)
    /// until <paramref name="cache"/> holds it, for at most 10 s; returns how many subscribers the last PUBLISH reached. Only
    /// the message is published, no key: a resync cannot learn it, only the channel can.
    /// </summary>
    public static async Task<long> PublishUserRevocationUntilHeldAsync(ISubscriber publisher, RevocationCache cache, string victim)
    {
        var message = new RevocationMessage(RevocationMessage.UserType, victim, "test", "BEL", DateTimeOffset.UtcNow).ToJson();
        var receivers = 0L;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!cache.IsUserRevoked(victim) && DateTime.UtcNow < deadline)
        {
            receivers = await publisher.PublishAsync(RedisChannel.Literal(RevocationKeys.UserChannel), message);
            await Task.Delay(200);
        }
        return receivers;
    }

    public static async Task<HttpStatusCode> WhoAmIAsync(FederationFixture federation, string code, string token)
    {
        using var http = federation.Backend(code, token);
        using var response = await http.GetAsync("/api/auth/whoami");
        return response.StatusCode;
    }

    /// <summary>The value of one sample on a backend's /metrics (0 when absent).</summary>
    public static async Task<double> MetricAsync(FederationFixture federation, string code, string sample)
    {
        using var http = federation.Backend(code);
        var text = await http.GetStringAsync("/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(sample + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(sample.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<string> HealthStatusAsync(FederationFixture federation, string code)
    {
        using var http = federation.Backend(code);
        var body = JsonDocument.Parse(await http.GetStringAsync("/health")).RootElement;
        return body.GetProperty("status").GetString()!;
    }
}
