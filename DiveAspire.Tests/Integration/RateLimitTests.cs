using System.Net;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Integration;

/// <summary>The api limiter with its default 100 per 15 min on the shared federation app.</summary>
[Collection(FederationCollection.Name)]
public sealed class RateLimitTests(FederationFixture federation)
{
    [Fact]
    public async Task The_101st_api_request_in_a_window_gets_429_with_headers_and_the_dive_body()
    {
        var user = "rl-101-" + Guid.NewGuid().ToString("N")[..8];
        using var http = federation.Backend("usa", federation.Mint("usa", user));
        for (var i = 1; i <= 100; i++)
        {
            using var ok = await http.GetAsync("/api/resources");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("100", ok.Header("RateLimit-Limit"));
            Assert.Equal((100 - i).ToString(), ok.Header("RateLimit-Remaining"));
            Assert.InRange(long.Parse(ok.Header("RateLimit-Reset")), 1, 900);
            Assert.False(ok.HasHeader("Retry-After"));
        }

        using var rejected = await http.GetAsync("/api/resources");
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal("100", rejected.Header("RateLimit-Limit"));
        Assert.Equal("0", rejected.Header("RateLimit-Remaining"));
        var retryAfter = long.Parse(rejected.Header("Retry-After"));
        Assert.InRange(retryAfter, 1, 900);
        var body = await rejected.JsonAsync();
        Assert.Equal("Too Many Requests", body.GetProperty("error").GetString());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("message").GetString()));
        Assert.Equal(retryAfter, body.GetProperty("details").GetProperty("retryAfter").GetInt64());
        Assert.Equal(100, body.GetProperty("details").GetProperty("limit").GetInt32());
        Assert.Equal(0, body.GetProperty("details").GetProperty("remaining").GetInt32());

        // A refused caller's next requests are refused without reading the catalog hash ahead of the limiter (review M7:
        // the hash has no size limit, the refused requests no count limit). Tests of this collection run one at a time.
        await using var redis = await federation.ConnectAsync("redis-usa");
        var catalogReads = await HashGetAllCallsAsync(redis);
        for (var i = 0; i < 10; i++)
        {
            using var again = await http.GetAsync("/api/resources");
            Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        }
        Assert.Equal(catalogReads, await HashGetAllCallsAsync(redis));

        // The window is in the hub's own Redis under the DIVE key, keyed by user and IP, expiring with the window.
        // The IP is the loopback address the backend saw: 127.0.0.1 or ::1, depending on how the machine resolves localhost.
        var prefix = $"dive-v3:rate-limit:api:{user}:";
        var key = Assert.Single(await redis.GetServers()[0].KeysAsync(pattern: prefix + "*").ToListAsync()).ToString();
        var ip = IPAddress.Parse(key[prefix.Length..]);
        Assert.True(IPAddress.IsLoopback(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip), $"the window's client address is not loopback: {key}");
        Assert.Equal(100, (long)await redis.GetDatabase().StringGetAsync(key));
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.InRange(ttl!.Value.TotalSeconds, 800, 900);
    }

    [Fact]
    public async Task Health_and_metrics_are_not_limited()
    {
        using var http = federation.Backend("bel");
        for (var i = 0; i < 3; i++)
        {
            using var health = await http.GetAsync("/health");
            Assert.False(health.HasHeader("RateLimit-Limit"));
            using var metrics = await http.GetAsync("/metrics");
            Assert.False(metrics.HasHeader("RateLimit-Limit"));
        }
        Assert.NotNull(await HttpAssertions.MetricAsync(http, "dive_v3_rate_limit_hits_total{limiter_type=\"api\"}"));
        Assert.Equal(1, await HttpAssertions.MetricAsync(http, "dive_v3_rate_limit_store{store=\"redis\"}"));
    }

    private static async Task<long> HashGetAllCallsAsync(StackExchange.Redis.IConnectionMultiplexer redis)
    {
        var stats = (await redis.GetServers()[0].InfoAsync("commandstats")).SelectMany(g => g)
            .FirstOrDefault(kv => kv.Key == "cmdstat_hgetall").Value;
        return stats is null ? 0 : long.Parse(stats.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
