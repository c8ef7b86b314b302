using System.Net;
using System.Text.Json;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Cli;

/// <summary>
/// `dive redis rate-limits show | reset` end to end on the rate-limit app (api limit <see cref="RateLimitFixture.ApiMax"/>):
/// two client IPs (relayed as by a loopback proxy, X-Forwarded-For) exhaust their budget, the CLI resets one of them.
/// </summary>
[Collection(RateLimitCollection.Name)]
public sealed class RedisCliRateLimitTests(RateLimitFixture app) : IAsyncLifetime
{
    private const int Max = RateLimitFixture.ApiMax;
    private EnvironmentScope _env = null!;

    public async Task InitializeAsync() => _env = await FederationCliEnvironment.SetAsync(app);

    public Task DisposeAsync()
    {
        _env.Dispose();
        return Task.CompletedTask;
    }

    private Task<CliRun> Dive(params string[] args) => CliRun.RunAsync(app.Secrets.AllValues, args);

    private static async Task<HttpResponseMessage> GetAs(HttpClient http, string ip) =>
        await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/resources").From(ip));

    private async Task<JsonElement> BackendRateLimitsAsync()
    {
        using var admin = app.Backend("usa", app.MintAdmin());
        using var response = await admin.GetAsync("/api/admin/rate-limits");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    private static SortedDictionary<string, (int Max, int WindowSeconds)> Limits(JsonElement report) => new(
        report.GetProperty("limits").EnumerateObject().ToDictionary(
            p => p.Name, p => (p.Value.GetProperty("max").GetInt32(), p.Value.GetProperty("windowSeconds").GetInt32())), StringComparer.Ordinal);

    [Fact]
    public async Task Reset_restores_one_ips_budget_and_leaves_the_other_ip_limited()
    {
        // Fresh addresses each run; A is given to the CLI in a non-canonical IPv6 spelling.
        var suffix = Random.Shared.Next(0x100, 0xffff);
        var a = $"2001:db8::{suffix:x}";
        var aAsTyped = $"2001:DB8:0:0::{suffix:X}";
        var b = $"198.18.{Random.Shared.Next(0, 255)}.{Random.Shared.Next(1, 255)}";
        using var http = app.Backend("usa", app.Mint("usa", "cli-rl-" + Guid.NewGuid().ToString("N")[..8]));
        foreach (var ip in new[] { a, b })
        {
            for (var i = 0; i < Max; i++)
            {
                using var ok = await GetAs(http, ip);
                Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            }
            using var blocked = await GetAs(http, ip);
            Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        }

        var before = (await Dive("redis", "rate-limits", "show", "usa", "--json")).Expect(0).Json;
        var activeBefore = before.GetProperty("activeKeys").GetProperty("api").GetInt32();
        Assert.True(activeBefore >= 2, $"expected both IPs' windows among the active api keys: {before}");

        var dry = (await Dive("redis", "rate-limits", "reset", aAsTyped, "usa", "--dry-run", "--json")).Expect(0).Json;
        Assert.True(dry.GetProperty("dryRun").GetBoolean());
        using (var stillBlocked = await GetAs(http, a))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, stillBlocked.StatusCode);
        }

        var reset = (await Dive("redis", "rate-limits", "reset", aAsTyped, "usa", "--json")).Expect(0).Json;
        Assert.Equal(a, reset.GetProperty("ip").GetString());
        Assert.Equal(1, reset.GetProperty("keysDeleted").GetInt32());

        using (var restored = await GetAs(http, a))
        {
            Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
            Assert.Equal((Max - 1).ToString(), restored.Header("RateLimit-Remaining"));
        }
        using (var untouched = await GetAs(http, b))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, untouched.StatusCode);
        }

        // A second reset of B through the text output; then B is served again too.
        var text = (await Dive("redis", "rate-limits", "reset", b, "usa")).Expect(0).Out;
        Assert.Contains($"Reset rate limits of {b} on backend-usa", text);
        Assert.Contains("1 keys deleted.", text);
        using (var bRestored = await GetAs(http, b))
        {
            Assert.Equal(HttpStatusCode.OK, bRestored.StatusCode);
        }
    }

    [Fact]
    public async Task Show_reports_the_redis_store_and_the_limits_and_active_keys_the_backend_has()
    {
        // At least one live api window of our own, so the active keys are not trivially zero.
        using (var http = app.Backend("usa", app.Mint("usa", "cli-rl-show-" + Guid.NewGuid().ToString("N")[..8])))
        using (var ok = await GetAs(http, "198.18.0.1"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // Nothing else runs against this app meanwhile, but a window may expire between two reads: read around the CLI.
        var direct = await BackendRateLimitsAsync();
        var json = (await Dive("redis", "rate-limits", "show", "usa", "--json")).Expect(0).Json;
        var directAfter = await BackendRateLimitsAsync();

        Assert.Equal("USA", json.GetProperty("instance").GetString());
        Assert.Equal("redis", json.GetProperty("store").GetString());
        Assert.Equal(Limits(direct), Limits(json));
        var api = json.GetProperty("limits").GetProperty("api");
        Assert.Equal(Max, api.GetProperty("max").GetInt32());
        Assert.Equal(900, api.GetProperty("windowSeconds").GetInt32());

        var active = json.GetProperty("activeKeys").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        var activeDirect = direct.GetProperty("activeKeys").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        var activeDirectAfter = directAfter.GetProperty("activeKeys").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.Equal(activeDirect.Keys.Order(), active.Keys.Order());
        Assert.All(active, kv => Assert.InRange(kv.Value, activeDirectAfter[kv.Key], activeDirect[kv.Key]));
        Assert.True(active["api"] >= 1);

        var text = (await Dive("redis", "rate-limits", "show", "usa")).Expect(0).Out;
        Assert.Contains("(instance USA, store redis)", text);
        var apiRow = text.Split('\n').Single(l => l.StartsWith("api ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["api", Max.ToString(), "900s"], apiRow[..3]);
    }
}
