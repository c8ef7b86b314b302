using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiveAspire.Tests.Infrastructure;
using StackExchange.Redis;

namespace DiveAspire.Tests.Integration;

[Collection(FederationCollection.Name)]
public sealed class DecisionCacheTests(FederationFixture federation)
{
    private static readonly string[] Codes = ["usa", "rou", "bel"];

    private static string NewUser() => "authz-" + Guid.NewGuid().ToString("N")[..8];

    private static string Key(string user, string resource, string clearance, string country) =>
        $"dive-v3:authz:decision:{user}:{resource}:{clearance}:{country}";

    private async Task<JsonElement> DecideAsync(string code, string token, string resource)
    {
        using var http = federation.Backend(code, token);
        using var response = await http.GetAsync($"/api/authz/decision/{resource}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    [Theory]
    [InlineData("UNCLASSIFIED", 120)]
    [InlineData("CONFIDENTIAL", 60)]
    [InlineData("SECRET", 30)]
    [InlineData("TOP_SECRET", 15)]
    [InlineData("NATO_RESTRICTED", 90)]
    [InlineData("NATO_SECRET", 30)]
    [InlineData("COSMIC_TOP_SECRET", 15)]
    public async Task A_decision_is_cached_in_the_instances_redis_for_its_classifications_ttl(string classification, int ttl)
    {
        var user = NewUser();
        var token = federation.Mint("usa", user, "COSMIC_TOP_SECRET", coi: ["NATO"]);
        var resource = $"USA-{classification}-001";

        var first = await DecideAsync("usa", token, resource);
        Assert.True(first.GetProperty("allow").GetBoolean(), first.GetProperty("reason").GetString());
        Assert.False(first.GetProperty("cached").GetBoolean());
        var second = await DecideAsync("usa", token, resource);
        Assert.True(second.GetProperty("cached").GetBoolean());

        await using var redis = await federation.ConnectAsync("redis-usa");
        var remaining = await redis.GetDatabase().KeyTimeToLiveAsync(Key(user, resource, "COSMIC_TOP_SECRET", "USA"));
        Assert.NotNull(remaining);
        Assert.InRange(remaining.Value.TotalSeconds, ttl - 5, ttl);
    }

    [Fact]
    public async Task Denials_are_decided_and_cached_too()
    {
        var token = federation.Mint("usa", NewUser(), "CONFIDENTIAL");
        var denied = await DecideAsync("usa", token, "USA-TOP_SECRET-001");
        Assert.False(denied.GetProperty("allow").GetBoolean());
        Assert.Contains("Insufficient clearance", denied.GetProperty("reason").GetString());
        Assert.True((await DecideAsync("usa", token, "USA-TOP_SECRET-001")).GetProperty("cached").GetBoolean());

        using var http = federation.Backend("usa", token);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/authz/decision/NO-SUCH-DOC")).StatusCode);
    }

    [Fact]
    public async Task A_user_invalidation_on_one_backend_reaches_the_others_and_the_sender_ignores_its_echo()
    {
        var user = NewUser();
        var token = federation.Mint("usa", user, "SECRET");
        var other = NewUser();
        var otherToken = federation.Mint("usa", other, "SECRET");
        foreach (var code in Codes)
        {
            await DecideAsync(code, token, $"{code.ToUpperInvariant()}-SECRET-001");
            await DecideAsync(code, otherToken, $"{code.ToUpperInvariant()}-SECRET-001");
        }
        using var hubMetrics = federation.Backend("usa");
        const string series = "dive_v3_decision_cache_invalidations_total{scope=\"user\"}";
        var before = await HttpAssertions.MetricAsync(hubMetrics, series) ?? 0;

        using var admin = federation.Backend("usa", federation.MintAdmin());
        using var response = await admin.PostAsJsonAsync("/api/admin/authz/invalidate", new { scope = "user", identifier = user });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(1, body.GetProperty("keysDeleted").GetInt32());
        Assert.True(body.GetProperty("published").GetBoolean());

        foreach (var code in Codes)
        {
            await using var redis = await federation.ConnectAsync($"redis-{code}");
            var key = Key(user, $"{code.ToUpperInvariant()}-SECRET-001", "SECRET", "USA");
            await HttpAssertions.EventuallyAsync(async () => !await redis.GetDatabase().KeyExistsAsync(key), TimeSpan.FromSeconds(10), $"{key} invalidated on {code}");
            Assert.True(await redis.GetDatabase().KeyExistsAsync(Key(other, $"{code.ToUpperInvariant()}-SECRET-001", "SECRET", "USA")), $"other user's decision kept on {code}");
        }
        Assert.False((await DecideAsync("rou", token, "ROU-SECRET-001")).GetProperty("cached").GetBoolean());

        // The sender applied its own invalidation once; its echo on the channel was ignored.
        await Task.Delay(1000);
        Assert.Equal(before + 1, await HttpAssertions.MetricAsync(hubMetrics, series));
    }

    [Fact]
    public async Task A_resource_invalidation_drops_that_resource_for_every_user_only()
    {
        var users = new[] { NewUser(), NewUser() };
        foreach (var user in users)
        {
            var token = federation.Mint("usa", user, "SECRET");
            await DecideAsync("bel", token, "BEL-SECRET-001");
            await DecideAsync("bel", token, "BEL-CONFIDENTIAL-001");
        }
        // An invalidation reaches every backend: the hub realm's admin (ROU's admin could before issue 12).
        using var admin = federation.Backend("rou", federation.MintAdmin());
        (await admin.PostAsJsonAsync("/api/admin/authz/invalidate", new { scope = "resource", identifier = "BEL-SECRET-001" })).EnsureSuccessStatusCode();

        await using var redis = await federation.ConnectAsync("redis-bel");
        foreach (var user in users)
        {
            await HttpAssertions.EventuallyAsync(async () => !await redis.GetDatabase().KeyExistsAsync(Key(user, "BEL-SECRET-001", "SECRET", "USA")),
                TimeSpan.FromSeconds(10), "resource invalidated on bel");
            Assert.True(await redis.GetDatabase().KeyExistsAsync(Key(user, "BEL-CONFIDENTIAL-001", "SECRET", "USA")));
        }
    }

    [Fact]
    public async Task Logout_announced_on_user_revoked_invalidates_that_users_decisions_everywhere()
    {
        var user = NewUser();
        var token = federation.Mint("usa", user, "SECRET");
        foreach (var code in Codes)
        {
            await DecideAsync(code, token, $"{code.ToUpperInvariant()}-CONFIDENTIAL-001");
        }
        // The message the revocation feature publishes on logout.
        await using var shared = await federation.ConnectAsync("redis-blacklist");
        var message = JsonSerializer.Serialize(new { type = "user", identifier = user, reason = "User logout", sourceInstance = "USA", timestamp = DateTimeOffset.UtcNow });
        var receivers = await shared.GetSubscriber().PublishAsync(RedisChannel.Literal("dive-v3:user-revoked"), message);
        Assert.True(receivers >= 3, $"every backend subscribes to dive-v3:user-revoked (receivers: {receivers})");

        foreach (var code in Codes)
        {
            await using var redis = await federation.ConnectAsync($"redis-{code}");
            var key = Key(user, $"{code.ToUpperInvariant()}-CONFIDENTIAL-001", "SECRET", "USA");
            await HttpAssertions.EventuallyAsync(async () => !await redis.GetDatabase().KeyExistsAsync(key), TimeSpan.FromSeconds(10), $"logout invalidated {code}");
        }
    }

    [Theory]
    [InlineData("{\"scope\":\"galaxy\"}")]
    [InlineData("{\"scope\":\"user\"}")]
    [InlineData("{\"scope\":\"1\"}")]
    public async Task Bad_invalidation_requests_are_400(string json)
    {
        using var admin = federation.Backend("usa", federation.MintAdmin());
        using var response = await admin.PostAsync("/api/admin/authz/invalidate", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
