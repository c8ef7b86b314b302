using System.Net.Http.Json;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Cli;

/// <summary>
/// The `dive redis` commands that go through the backends' admin endpoints (revocation and rate limiting), run
/// in-process against the real test federation with an admin dev token.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class RedisCliBackendTests(FederationFixture fixture) : FederationCliTests(fixture)
{
    [Fact]
    public async Task Blacklist_status_counts_revocations_made_through_a_backend_and_sees_every_backend_subscribed()
    {
        var before = (await Dive("redis", "blacklist", "status", "--spokes", "rou,bel", "--json")).Expect(0).Json;

        // Blacklisting someone else's jti is federation-wide: the hub realm's admin (ROU's admin could before issue 12).
        using var http = Federation.Backend("rou", Federation.MintAdmin());
        var jti = Guid.NewGuid().ToString();
        var user = "cli-revoked-" + Guid.NewGuid().ToString("N");
        var exp = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        (await http.PostAsJsonAsync("/api/auth/blacklist-token", new { jti, exp, reason = "cli test" })).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync("/api/auth/revoke", new { uniqueID = user, ttlSeconds = 600, reason = "cli test" })).EnsureSuccessStatusCode();

        var after = (await Dive("redis", "blacklist", "status", "--spokes", "rou,bel", "--json")).Expect(0).Json;
        Assert.Equal(before.GetProperty("revokedTokens").GetInt64() + 1, after.GetProperty("revokedTokens").GetInt64());
        Assert.Equal(before.GetProperty("revokedUsers").GetInt64() + 1, after.GetProperty("revokedUsers").GetInt64());
        var backends = after.GetProperty("backends").EnumerateArray().ToList();
        Assert.Equal(3, backends.Count);
        Assert.All(backends, b => Assert.True(b.GetProperty("subscribed").GetBoolean(), $"{b.GetProperty("instance")} is not subscribed"));
        Assert.True(after.GetProperty("subscribers").GetProperty("dive-v3:token-blacklist").GetInt64() >= 3);
    }

    [Fact]
    public async Task Blacklist_sync_reports_every_backend()
    {
        var json = (await Dive("redis", "blacklist", "sync", "--spokes", "rou,bel", "--json")).Expect(0).Json;
        var results = json.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["USA", "BEL", "ROU"], results.Select(r => r.GetProperty("instance").GetString()));
        Assert.All(results, r => Assert.True(r.GetProperty("tokens").GetInt64() >= 0 && r.GetProperty("users").GetInt64() >= 0));
        Assert.Empty(json.GetProperty("errors").EnumerateArray());

        // DNK is in instances/ but not running: reported, and the command fails.
        var all = await Dive("redis", "blacklist", "sync", "--json");
        all.Expect(1);
        var error = all.Json.GetProperty("errors").EnumerateArray().Single();
        Assert.Equal("DNK", error.GetProperty("instance").GetString());
        Assert.Contains("unreachable", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Blacklist_sync_with_a_token_that_is_not_admin_is_refused_in_one_line()
    {
        var error = (await Dive("redis", "blacklist", "sync", "--spokes", "none", "--token", Federation.Mint("usa", "not-an-admin"))).Expect(1).Out;
        Assert.Contains("rejected the admin token", error);
    }

    [Fact]
    public async Task Rate_limits_show_reports_store_limits_and_active_keys()
    {
        var json = (await Dive("redis", "rate-limits", "show", "usa", "--json")).Expect(0).Json;
        Assert.Equal("USA", json.GetProperty("instance").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("store").GetString()));
        var limits = json.GetProperty("limits").EnumerateObject().ToList();
        Assert.NotEmpty(limits);
        Assert.All(limits, l => Assert.True(l.Value.GetProperty("max").GetInt64() > 0 && l.Value.GetProperty("windowSeconds").GetInt64() > 0));
        Assert.Contains("LIMITER", (await Dive("redis", "rate-limits", "show", "usa")).Expect(0).Out);
    }

    [Fact]
    public async Task Rate_limits_reset_deletes_one_ips_keys()
    {
        var json = (await Dive("redis", "rate-limits", "reset", "203.0.113.7", "bel", "--json")).Expect(0).Json;
        Assert.Equal("203.0.113.7", json.GetProperty("ip").GetString());
        Assert.True(json.GetProperty("keysDeleted").GetInt64() >= 0);

        var dry = (await Dive("redis", "rate-limits", "reset", "203.0.113.7", "bel", "--dry-run", "--json")).Expect(0).Json;
        Assert.True(dry.GetProperty("dryRun").GetBoolean());
    }
}
