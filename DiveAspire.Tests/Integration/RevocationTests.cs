using System.Diagnostics;
using System.Net;
using System.Text.Json;
using DiveAspire.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Integration;

/// <summary>Federation-wide revocation on the shared federation (hub USA + ROU + BEL); nothing here stops a resource.</summary>
[Collection(FederationCollection.Name)]
public sealed class RevocationTests(FederationFixture federation, ITestOutputHelper output)
{
    private static string NewUser(string prefix = "testuser-usa") => $"{prefix}-{Guid.NewGuid():N}"[..24];

    [Fact]
    public async Task Logout_on_the_hub_is_rejected_on_both_spokes_within_one_second()
    {
        var samples = new List<double>();
        for (var round = 0; round < 7; round++)
        {
            var token = federation.Mint("usa", NewUser());
            Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "rou", token));
            Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "bel", token));

            using var usa = federation.Backend("usa", token);
            using var rou = federation.Backend("rou", token);
            using var bel = federation.Backend("bel", token);
            var watch = Stopwatch.StartNew();
            var (status, _) = await PostAsync(usa, "/api/auth/logout");
            Assert.Equal(HttpStatusCode.OK, status);
            var rejected = await Task.WhenAll(new[] { rou, bel }.Select(async http =>
            {
                while (true)
                {
                    using var response = await http.GetAsync("/api/auth/whoami");
                    if (response.StatusCode == HttpStatusCode.Unauthorized)
                    {
                        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                        Assert.Equal("Unauthorized", body.GetProperty("error").GetString());
                        // Logout revokes the jti and the user in one MULTI; the spoke may hold either first.
                        Assert.Contains(Message(body), new[] { "Token has been revoked", "User session has been terminated" });
                        return watch.Elapsed;
                    }
                    Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "the revocation never reached the spoke");
                }
            }));
            samples.AddRange(rejected.Select(t => t.TotalMilliseconds));
            Assert.All(rejected, t => Assert.True(t < TimeSpan.FromSeconds(1), $"propagation took {t.TotalMilliseconds:F0} ms"));
        }
        samples.Sort();
        output.WriteLine($"logout on USA -> 401 on ROU and BEL (includes the logout call): median {samples[samples.Count / 2]:F1} ms, max {samples[^1]:F1} ms, n={samples.Count}");
    }

    [Fact]
    public async Task Logout_writes_both_keys_with_the_specified_ttls_values_and_messages()
    {
        await using var redis = await federation.ConnectAsync("redis-blacklist");
        var messages = new List<(string Channel, string Json)>();
        var subscriber = redis.GetSubscriber();
        foreach (var channel in new[] { "dive-v3:token-blacklist", "dive-v3:user-revoked" })
        {
            await subscriber.SubscribeAsync(RedisChannel.Literal(channel), (c, v) => { lock (messages) { messages.Add((c.ToString(), v.ToString())); } });
        }

        var user = NewUser();
        var jti = Guid.NewGuid().ToString();
        var token = federation.Mint("usa", user, ttl: TimeSpan.FromMinutes(10), jti: jti);
        using var rou = federation.Backend("rou", token);
        var (status, body) = await PostAsync(rou, "/api/auth/logout");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(jti, body.GetProperty("jti").GetString());

        var db = redis.GetDatabase();
        var tokenTtl = (await db.KeyTimeToLiveAsync($"blacklist:{jti}"))!.Value.TotalSeconds;
        var userTtl = (await db.KeyTimeToLiveAsync($"user-revoked:{user}"))!.Value.TotalSeconds;
        // exp (10 min) + 5 s validation clock skew + 30 s margin (was exp - now before issue 12).
        Assert.InRange(tokenTtl, 605, 635);
        Assert.InRange(userTtl, 870, 900);

        foreach (var key in new[] { $"blacklist:{jti}", $"user-revoked:{user}" })
        {
            var value = JsonDocument.Parse((string)(await db.StringGetAsync(key))!).RootElement;
            Assert.Equal(["revokedAt", "reason", "expiresAt", "revokedByInstance"], value.EnumerateObject().Select(p => p.Name));
            Assert.Equal("User logout", value.GetProperty("reason").GetString());
            Assert.Equal("ROU", value.GetProperty("revokedByInstance").GetString());
            Assert.True(value.GetProperty("revokedAt").GetDateTimeOffset() < value.GetProperty("expiresAt").GetDateTimeOffset());
        }

        await EventuallyAsync(() => { lock (messages) { return Task.FromResult(messages.Count >= 2); } }, "both pub/sub messages");
        lock (messages)
        {
            var tokenMessage = JsonDocument.Parse(messages.Single(m => m.Channel == "dive-v3:token-blacklist").Json).RootElement;
            var userMessage = JsonDocument.Parse(messages.Single(m => m.Channel == "dive-v3:user-revoked").Json).RootElement;
            foreach (var (message, type, identifier) in new[] { (tokenMessage, "token", jti), (userMessage, "user", user) })
            {
                Assert.Equal(["type", "identifier", "reason", "sourceInstance", "timestamp"], message.EnumerateObject().Select(p => p.Name));
                Assert.Equal(type, message.GetProperty("type").GetString());
                Assert.Equal(identifier, message.GetProperty("identifier").GetString());
                Assert.Equal("User logout", message.GetProperty("reason").GetString());
                Assert.Equal("ROU", message.GetProperty("sourceInstance").GetString());
            }
        }
    }

    [Fact]
    public async Task A_token_that_expires_soon_stays_blacklisted_at_least_60_s()
    {
        var jti = Guid.NewGuid().ToString();
        var token = federation.Mint("usa", NewUser(), ttl: TimeSpan.FromSeconds(20), jti: jti);
        const string Propagated = "dive_v3_revocation_propagation_seconds_count{type=\"token\"}";
        var belPropagatedBefore = await MetricAsync(federation, "bel", Propagated);
        var usaPropagatedBefore = await MetricAsync(federation, "usa", Propagated);
        using var usa = federation.Backend("usa", token);
        var (status, body) = await PostAsync(usa, "/api/auth/blacklist-token", $$"""{"jti":"{{jti}}","reason":"compromised"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("blacklisted").GetBoolean());

        await using var redis = await federation.ConnectAsync("redis-blacklist");
        var ttl = (await redis.GetDatabase().KeyTimeToLiveAsync($"blacklist:{jti}"))!.Value.TotalSeconds;
        Assert.InRange(ttl, 55, 60);
        var value = JsonDocument.Parse((string)(await redis.GetDatabase().StringGetAsync($"blacklist:{jti}"))!).RootElement;
        Assert.Equal("compromised", value.GetProperty("reason").GetString());

        using var bel = federation.Backend("bel", token);
        await EventuallyAsync(async () => await WhoAmIAsync(federation, "bel", token) == HttpStatusCode.Unauthorized, "blacklisted token rejected on BEL", TimeSpan.FromSeconds(5));
        var (checkStatus, check) = await GetAsync(federation.Backend("bel", federation.Mint("bel", NewUser("testuser-bel"))), $"/api/auth/check-blacklist/{jti}");
        Assert.Equal(HttpStatusCode.OK, checkStatus);
        Assert.Equal(jti, check.GetProperty("jti").GetString());
        Assert.True(check.GetProperty("blacklisted").GetBoolean());
        Assert.InRange(check.GetProperty("rejectedHereSince").GetDateTimeOffset(), body.GetProperty("revokedAt").GetDateTimeOffset(), DateTimeOffset.UtcNow);

        // BEL timed the message from USA; USA does not time its own.
        Assert.True(await MetricAsync(federation, "bel", Propagated) > belPropagatedBefore);
        Assert.Equal(usaPropagatedBefore, await MetricAsync(federation, "usa", Propagated));
    }

    [Fact]
    public async Task A_user_revocation_blocks_a_token_minted_after_the_logout_on_every_instance()
    {
        var user = NewUser();
        var before = federation.Mint("usa", user);
        using (var usa = federation.Backend("usa", before))
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/logout")).Status);
        }

        var after = federation.Mint("usa", user);
        foreach (var code in new[] { "usa", "rou", "bel" })
        {
            await EventuallyAsync(async () => await WhoAmIAsync(federation, code, after) == HttpStatusCode.Unauthorized, $"new token rejected on {code}", TimeSpan.FromSeconds(5));
            using var http = federation.Backend(code, after);
            var (status, body) = await GetAsync(http, "/api/resources");
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("User session has been terminated", Message(body));
        }

        // Another user of the same federation is unaffected.
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "rou", federation.Mint("usa", NewUser())));
    }

    [Fact]
    public async Task An_admin_terminates_another_users_sessions_and_the_revocation_clears_when_its_ttl_ends()
    {
        var user = NewUser("testuser-rou");
        var token = federation.Mint("rou", user);
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "bel", token));

        using (var stranger = federation.Backend("usa", federation.Mint("usa", NewUser())))
        {
            var (forbidden, body) = await PostAsync(stranger, "/api/auth/revoke", $$"""{"uniqueID":"{{user}}"}""");
            Assert.Equal(HttpStatusCode.Forbidden, forbidden);
            Assert.Equal("Forbidden", body.GetProperty("error").GetString());
        }

        using var admin = federation.Backend("usa", federation.MintAdmin());
        // A ROU-realm user: identity is (realm, subject), so the hub admin names the realm (issue 12).
        var (status, revoked) = await PostAsync(admin, "/api/auth/revoke", $$"""{"uniqueID":"{{user}}","realm":"ROU","ttlSeconds":4,"reason":"security incident"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(user, revoked.GetProperty("uniqueID").GetString());

        await EventuallyAsync(async () => await WhoAmIAsync(federation, "bel", token) == HttpStatusCode.Unauthorized, "user revoked on BEL", TimeSpan.FromSeconds(3), pollMs: 20);
        var cleared = await EventuallyAsync(async () => await WhoAmIAsync(federation, "bel", token) == HttpStatusCode.OK, "revocation expired on BEL", TimeSpan.FromSeconds(15));
        output.WriteLine($"user revocation with a 4 s TTL accepted again after {cleared.TotalSeconds:F1} s of polling");

        await using var redis = await federation.ConnectAsync("redis-blacklist");
        Assert.False(await redis.GetDatabase().KeyExistsAsync($"user-revoked:ROU:{user}"));
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "rou", token));
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "usa", token));
    }

    [Fact]
    public async Task A_spoke_that_missed_the_publish_while_disconnected_rejects_the_token_after_it_resyncs_without_restart()
    {
        var user = NewUser();
        var jti = Guid.NewGuid().ToString();
        var token = federation.Mint("usa", user, jti: jti);
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "rou", token));
        var receivedBefore = await MetricAsync(federation, "rou", "dive_v3_revocations_received_total{type=\"token\"}");
        var reconnectsBefore = await MetricAsync(federation, "rou", "dive_v3_revocation_pubsub_reconnects_total");

        await using var redis = await federation.ConnectAsync("redis-blacklist");
        var server = redis.GetServers()[0];
        var rouSubscription = (await server.ClientListAsync()).Single(c => c.ClientType == ClientType.PubSub && c.Name == "dive-backend-rou-blacklist");

        // One MULTI/EXEC: the spoke's subscription is cut, then the revocation is written and published exactly as a
        // backend does it. The spoke cannot receive this message; only its resync can tell it.
        var now = DateTimeOffset.UtcNow;
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.ExecuteAsync("CLIENT", "KILL", "ID", rouSubscription.Id);
        _ = transaction.StringSetAsync($"blacklist:{jti}",
            $$"""{"revokedAt":"{{now:O}}","reason":"User logout","expiresAt":"{{now.AddMinutes(15):O}}","revokedByInstance":"USA"}""", TimeSpan.FromMinutes(15));
        var delivered = transaction.PublishAsync(RedisChannel.Literal("dive-v3:token-blacklist"),
            $$"""{"type":"token","identifier":"{{jti}}","reason":"User logout","sourceInstance":"USA","timestamp":"{{now:O}}"}""");
        Assert.True(await transaction.ExecuteAsync());
        output.WriteLine($"message delivered to {await delivered} subscriber(s) (ROU's was killed first)");

        // BEL stayed subscribed and learns it over pub/sub; ROU only after reconnect + resync.
        await EventuallyAsync(async () => await WhoAmIAsync(federation, "bel", token) == HttpStatusCode.Unauthorized, "BEL rejects the token", TimeSpan.FromSeconds(5));
        var resynced = await EventuallyAsync(async () => await WhoAmIAsync(federation, "rou", token) == HttpStatusCode.Unauthorized, "ROU rejects the token after resync", TimeSpan.FromSeconds(20), pollMs: 50);
        output.WriteLine($"ROU rejected the token {resynced.TotalMilliseconds:F0} ms after its subscription was killed");

        Assert.Equal(receivedBefore, await MetricAsync(federation, "rou", "dive_v3_revocations_received_total{type=\"token\"}"));
        Assert.True(await MetricAsync(federation, "rou", "dive_v3_revocation_pubsub_reconnects_total") > reconnectsBefore);
        await EventuallyAsync(async () => (await server.ClientListAsync()).Any(c => c.ClientType == ClientType.PubSub && c.Name == "dive-backend-rou-blacklist"), "ROU subscribed again");
        Assert.Equal(1, await MetricAsync(federation, "rou", "dive_v3_revocation_subscriber_connected"));
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task Expiring_the_key_and_publishing_a_message_does_not_lift_a_revocation_on_any_backend()
    {
        // Every backend's store user may PEXPIRE and PUBLISH (a joined spoke's operator holds one: docs/deployment.md, "Trust
        // limits"). Each backend reads the key again after a message; a key gone or shortened must not end the revocation.
        var jti = Guid.NewGuid().ToString();
        var token = federation.Mint("usa", NewUser(), jti: jti);
        using var usa = federation.Backend("usa", token);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/blacklist-token", $$"""{"jti":"{{jti}}","reason":"compromised"}""")).Status);
        foreach (var code in new[] { "usa", "rou", "bel" })
        {
            await EventuallyAsync(async () => await WhoAmIAsync(federation, code, token) == HttpStatusCode.Unauthorized, $"revoked on {code}", TimeSpan.FromSeconds(5));
        }
        // Let every backend read the key's exact TTL after the logout's own message.
        await Task.Delay(500);

        await using var redis = await federation.ConnectAsync("redis-blacklist");
        var db = redis.GetDatabase();
        var forged = $$"""{"type":"token","identifier":"{{jti}}","reason":"lifted","sourceInstance":"ROU","timestamp":"{{DateTimeOffset.UtcNow:O}}"}""";
        Assert.True(await db.KeyExpireAsync($"blacklist:{jti}", TimeSpan.FromMilliseconds(1)));
        await Task.Delay(50);
        Assert.True(await db.PublishAsync(RedisChannel.Literal("dive-v3:token-blacklist"), forged) >= 3);
        await Task.Delay(1000);
        foreach (var code in new[] { "usa", "rou", "bel" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIAsync(federation, code, token));
        }
    }

    [Fact]
    public async Task Check_endpoints_answer_in_the_original_shapes()
    {
        var jti = Guid.NewGuid().ToString();
        var token = federation.Mint("usa", NewUser(), jti: jti);
        using var caller = federation.Backend("rou", federation.Mint("rou", NewUser("testuser-rou")));

        var (status, body) = await PostAsync(caller, "/api/blacklist/check", $$"""{"jti":"{{jti}}"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(jti, body.GetProperty("jti").GetString());
        Assert.False(body.GetProperty("isBlacklisted").GetBoolean());
        var notRevoked = (await GetAsync(caller, $"/api/auth/check-blacklist/{jti}")).Body;
        Assert.False(notRevoked.GetProperty("blacklisted").GetBoolean());
        Assert.Equal(JsonValueKind.Null, notRevoked.GetProperty("rejectedHereSince").ValueKind);

        using (var owner = federation.Backend("usa", token))
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(owner, "/api/auth/revoke")).Status);
        }
        // /api/auth/revoke without a body revokes the caller's sessions (a user revocation), not this jti.
        Assert.False((await PostAsync(caller, "/api/blacklist/check", $$"""{"jti":"{{jti}}"}""")).Body.GetProperty("isBlacklisted").GetBoolean());

        using var admin = federation.Backend("usa", federation.MintAdmin());
        var exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(admin, "/api/auth/blacklist-token", $$"""{"jti":"{{jti}}","exp":{{exp}}}""")).Status);
        Assert.True((await PostAsync(caller, "/api/blacklist/check", $$"""{"jti":"{{jti}}"}""")).Body.GetProperty("isBlacklisted").GetBoolean());
        Assert.True((await GetAsync(caller, $"/api/auth/check-blacklist/{jti}")).Body.GetProperty("blacklisted").GetBoolean());
    }

    [Fact]
    public async Task Stats_count_by_scan_and_sync_rebuilds_a_backends_cache_from_the_store()
    {
        await using var redis = await federation.ConnectAsync("redis-blacklist");
        var server = redis.GetServers()[0];
        using var admin = federation.Backend("bel", federation.MintAdmin("bel"));

        // A revoked user whose key an operator deletes directly (as `dive redis blacklist clear` would).
        var user = NewUser();
        var token = federation.Mint("usa", user);
        using (var usa = federation.Backend("usa", token))
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/logout")).Status);
        }
        await EventuallyAsync(async () => await WhoAmIAsync(federation, "bel", token) == HttpStatusCode.Unauthorized, "logout reached BEL");
        Assert.True(await redis.GetDatabase().KeyDeleteAsync($"user-revoked:{user}"));
        Assert.True(await redis.GetDatabase().KeyDeleteAsync($"blacklist:{JsonWebTokenJti(token)}"));
        Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIAsync(federation, "bel", token));

        var (syncStatus, sync) = await PostAsync(admin, "/api/blacklist/sync");
        Assert.Equal(HttpStatusCode.OK, syncStatus);
        Assert.Equal("BEL", sync.GetProperty("instance").GetString());
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "bel", token));

        var tokens = server.Keys(pattern: "blacklist:*", pageSize: 1000).Count();
        var users = server.Keys(pattern: "user-revoked:*", pageSize: 1000).Count();
        Assert.Equal(tokens, sync.GetProperty("tokens").GetInt32());
        Assert.Equal(users, sync.GetProperty("users").GetInt32());

        var (status, stats) = await GetAsync(admin, "/api/blacklist/stats");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(stats.GetProperty("storeReachable").GetBoolean());
        Assert.Equal(tokens, stats.GetProperty("store").GetProperty("tokens").GetInt32());
        Assert.Equal(users, stats.GetProperty("store").GetProperty("users").GetInt32());
        Assert.Equal(tokens, stats.GetProperty("local").GetProperty("tokens").GetInt32());
        Assert.Equal(users, stats.GetProperty("local").GetProperty("users").GetInt32());
        Assert.True(stats.GetProperty("subscription").GetProperty("live").GetBoolean());
        Assert.True(stats.GetProperty("subscription").GetProperty("synchronised").GetBoolean());
        Assert.Equal("open", stats.GetProperty("failureMode").GetString());

        // The stats never block the store with KEYS.
        var commandStats = await server.InfoAsync("commandstats");
        Assert.DoesNotContain(commandStats.SelectMany(g => g), kv => kv.Key == "cmdstat_keys");

        using var user2 = federation.Backend("bel", federation.Mint("bel", NewUser("testuser-bel")));
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(user2, "/api/blacklist/stats")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(user2, "/api/blacklist/sync")).Status);
    }

    [Fact]
    public async Task Resources_list_the_instances_catalog_as_the_decision_endpoint_allows()
    {
        // Uploads next to ROU's seed, each telling one rule apart (other tests upload too: only our ids are compared).
        var word = "rl" + Guid.NewGuid().ToString("N")[..10];
        using (var uploader = federation.Backend("rou", federation.Mint("rou", NewUser("uploader-rou"))))
        {
            foreach (var (suffix, classification, releasable, coi) in new (string, string, string[], string[])[]
            {
                ("a", "SECRET", ["USA"], []),
                ("b", "nato confidential", ["usa", "rou"], ["FVEY"]),
                ("c", "RESTRICTED", ["ROU"], ["NATO"]),
                ("d", "unclassified", ["USA", "ROU"], []),
            })
            {
                var json = JsonSerializer.Serialize(new { resourceId = $"ROU-{word}-{suffix}", title = "Listing " + word, classification, releasabilityTo = releasable, coi });
                Assert.Equal(HttpStatusCode.Created, (await PostAsync(uploader, "/api/upload", json)).Status);
            }
        }
        string[] Seeds(params string[] classifications) => [.. classifications.Select(c => $"ROU-{c}-001")];
        string[] Uploads(params string[] suffixes) => [.. suffixes.Select(s => $"ROU-{word}-{s}")];
        var ours = Seeds("UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP_SECRET", "NATO_UNCLASSIFIED", "NATO_RESTRICTED", "NATO_CONFIDENTIAL", "NATO_SECRET", "COSMIC_TOP_SECRET")
            .Concat(Uploads("a", "b", "c", "d")).ToList();

        async Task ExpectAsync(string token, string clearance, string country, string[] expected)
        {
            using var http = federation.Backend("rou", token);
            var (status, body) = await GetAsync(http, "/api/resources");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("ROU", body.GetProperty("instance").GetString());
            Assert.Equal(clearance, body.GetProperty("clearance").GetString());
            Assert.Equal(country, body.GetProperty("country").GetString());
            var listed = body.GetProperty("resources").EnumerateArray().ToList();
            Assert.Equal(listed.Count, body.GetProperty("count").GetInt32());
            var ids = listed.Select(r => r.GetProperty("id").GetString()!).ToList();
            Assert.Equal(expected, ids.Where(ours.Contains));
            // The decision endpoint agrees with the listing on every document of ours, listed or not.
            foreach (var id in ours)
            {
                var (decided, decision) = await GetAsync(http, $"/api/authz/decision/{id}");
                Assert.Equal(HttpStatusCode.OK, decided);
                Assert.True(ids.Contains(id) == decision.GetProperty("allow").GetBoolean(), $"{id}: listed {ids.Contains(id)}, decision {decision.GetProperty("reason").GetString()}");
            }
        }

        var secretUsa = federation.Mint("usa", NewUser(), clearance: "SECRET");
        await ExpectAsync(secretUsa, "SECRET", "USA",
            [.. Seeds("UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "NATO_UNCLASSIFIED", "NATO_RESTRICTED", "NATO_CONFIDENTIAL", "NATO_SECRET"), .. Uploads("a", "d")]);
        await ExpectAsync(federation.Mint("rou", NewUser("testuser-rou"), clearance: "confidential", coi: ["NATO", "FVEY"]), "CONFIDENTIAL", "ROU",
            [.. Seeds("UNCLASSIFIED", "CONFIDENTIAL", "NATO_UNCLASSIFIED", "NATO_RESTRICTED", "NATO_CONFIDENTIAL"), .. Uploads("b", "c", "d")]);
        await ExpectAsync(federation.Mint("bel", NewUser("testuser-bel"), clearance: "nato-secret", coi: []), "NATO_SECRET", "BEL",
            Seeds("UNCLASSIFIED", "CONFIDENTIAL", "SECRET"));

        // An unknown clearance sees nothing at all, whatever else the catalog holds.
        using var bogus = federation.Backend("rou", federation.Mint("usa", NewUser(), clearance: "BOGUS"));
        var (bogusStatus, nothing) = await GetAsync(bogus, "/api/resources");
        Assert.Equal(HttpStatusCode.OK, bogusStatus);
        Assert.Equal(0, nothing.GetProperty("count").GetInt32());
        Assert.Empty(nothing.GetProperty("resources").EnumerateArray());
    }

    [Fact]
    public async Task Revocation_metrics_are_exposed()
    {
        using var http = federation.Backend("usa");
        var text = await http.GetStringAsync("/metrics");
        foreach (var name in new[]
        {
            "dive_v3_revocations_published_total{type=\"token\"}", "dive_v3_revocations_received_total{type=\"user\"}",
            "dive_v3_revocation_cache_size{type=\"token\"}", "dive_v3_revocation_check_duration_seconds_bucket",
            "dive_v3_revocation_propagation_seconds_bucket{type=\"user\",le=\"0.005\"}",
            "dive_v3_revocation_pubsub_reconnects_total", "dive_v3_revocation_subscriber_connected 1", "dive_v3_redis_health{cluster=\"blacklist\"}",
        })
        {
            Assert.Contains(name, text);
        }
        Assert.Equal("healthy", await HealthStatusAsync(federation, "usa"));
    }

    private static string JsonWebTokenJti(string token) => new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).Id;
}
