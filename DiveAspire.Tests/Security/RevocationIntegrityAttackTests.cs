using System.Net;
using DiveAspire.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using StackExchange.Redis;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Security;

/// <summary>Attacks on the shared revocation store: ending a revocation early, outliving it, flooding it.</summary>
[Collection(RevocationSecurityCollection.Name)]
[Trait("Category", "Security")]
public sealed class RevocationIntegrityAttackTests(RevocationSecurityFixture federation)
{
    private static string NewUser(string prefix = "sec-rev") => $"{prefix}-{Guid.NewGuid():N}"[..24];

    private string Admin(string user) => federation.Mint("usa", user, roles: ["dive-admin"]);

    [Fact]
    public async Task A_later_revocation_with_a_1_s_ttl_does_not_shorten_a_24_h_revocation()
    {
        var victim = NewUser();
        var victimToken = federation.Mint("usa", victim);
        using var admin = federation.Backend("usa", Admin(NewUser("sec-admin")));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(admin, "/api/auth/revoke", $$"""{"uniqueID":"{{victim}}","ttlSeconds":86400}""")).Status);
        var (status, body) = await PostAsync(admin, "/api/auth/revoke", $$"""{"uniqueID":"{{victim}}","ttlSeconds":1}""");
        Assert.Equal(HttpStatusCode.OK, status);
        // The answer tells the revocation that is in force: the longer one.
        Assert.True(body.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(23));

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await using var redis = await federation.ConnectAsync("redis-blacklist");
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync($"user-revoked:{victim}");
        Assert.True(ttl > TimeSpan.FromHours(23), $"user-revoked:{victim} TTL is {ttl?.ToString() ?? "gone"}");
        Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIAsync(federation, "rou", victimToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIAsync(federation, "usa", victimToken));
    }

    [Fact]
    public async Task A_blacklisted_token_stays_blacklisted_past_its_exp_plus_the_validation_clock_skew()
    {
        // Validation accepts a token until exp + 5 s (ClockSkew): the key must outlive that.
        var jti = Guid.NewGuid().ToString();
        var token = federation.Mint("usa", NewUser(), ttl: TimeSpan.FromMinutes(5), jti: jti);
        var exp = new JsonWebToken(token).ValidTo;
        using var http = federation.Backend("usa", token);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, "/api/auth/blacklist-token", $$"""{"jti":"{{jti}}"}""")).Status);

        await using var redis = await federation.ConnectAsync("redis-blacklist");
        var ttl = (await redis.GetDatabase().KeyTimeToLiveAsync($"blacklist:{jti}"))!.Value;
        var keyEnds = DateTime.UtcNow + ttl;
        Assert.True(keyEnds >= exp.AddSeconds(5), $"blacklist:{jti} ends {keyEnds:O}, the token is accepted until {exp.AddSeconds(5):O}");
    }

    [Fact]
    public async Task An_admin_cannot_blacklist_a_token_until_year_9999()
    {
        using var admin = federation.Backend("usa", Admin(NewUser("sec-admin")));
        var jti = Guid.NewGuid().ToString();
        var (status, body) = await PostAsync(admin, "/api/auth/blacklist-token", $$"""{"jti":"{{jti}}","exp":253402300799}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Bad Request", body.GetProperty("error").GetString());
        await using var redis = await federation.ConnectAsync("redis-blacklist");
        Assert.False(await redis.GetDatabase().KeyExistsAsync($"blacklist:{jti}"));
    }

    [Fact]
    public async Task One_admin_cannot_flood_the_store_the_revocation_endpoints_are_rate_limited()
    {
        using var admin = federation.Backend("usa", Admin(NewUser("sec-flood")));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
        {
            var (status, body) = await PostAsync(admin, "/api/auth/revoke", $$"""{"uniqueID":"{{NewUser("sec-flooded")}}","ttlSeconds":60}""");
            statuses.Add(status);
            if (status == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal("Too Many Requests", body.GetProperty("error").GetString());
                break;
            }
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.Equal(30, statuses.Count(s => s == HttpStatusCode.OK));
        await using var cache = await federation.ConnectAsync("redis-usa");
        var server = cache.GetServers()[0];
        Assert.NotEmpty(server.Keys(pattern: "dive-v3:rate-limit:revocation:*").Take(1));
    }

    [Fact]
    public async Task A_revocation_key_without_ttl_is_enforced_as_check_reports_it()
    {
        var jti = Guid.NewGuid().ToString();
        var token = federation.Mint("usa", NewUser(), jti: jti);
        await using var redis = await federation.ConnectAsync("redis-blacklist");
        // Written by an operator or an older tool without EX; ROU learns it from its resync.
        Assert.True(await redis.GetDatabase().StringSetAsync($"blacklist:{jti}", """{"reason":"no ttl"}"""));
        try
        {
            using (var admin = federation.Backend("rou", federation.MintAdmin()))
            {
                Assert.Equal(HttpStatusCode.OK, (await PostAsync(admin, "/api/blacklist/sync")).Status);
            }
            using var http = federation.Backend("rou", federation.Mint("rou", NewUser()));
            var (_, check) = await PostAsync(http, "/api/blacklist/check", $$"""{"jti":"{{jti}}"}""");
            Assert.True(check.GetProperty("isBlacklisted").GetBoolean());
            Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIAsync(federation, "rou", token));
        }
        finally
        {
            await redis.GetDatabase().KeyDeleteAsync($"blacklist:{jti}");
        }
    }
}
