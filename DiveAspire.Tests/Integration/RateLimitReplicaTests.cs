using System.Net;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Integration;

/// <summary>Limits shared by replicas, surviving restarts, reset per IP, the allow-list, and the Redis-to-memory fallback.</summary>
[Collection(RateLimitCollection.Name)]
public sealed class RateLimitReplicaTests(RateLimitFixture app)
{
    private const int Max = RateLimitFixture.ApiMax;

    [Fact]
    public async Task Two_replicas_hammered_concurrently_admit_exactly_the_limit()
    {
        var user = "rl-replicas-" + Guid.NewGuid().ToString("N")[..8];
        var token = app.Mint("rou", user);
        const int total = 3 * Max;
        var replicaUrls = await app.ReplicaUrlsAsync("backend-rou", 2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, replicaUrls.Count);
        // Half the clients call each replica directly, half go through the proxied endpoint.
        var clients = replicaUrls.SelectMany(url => Enumerable.Range(0, 3).Select(_ =>
            new HttpClient { BaseAddress = url, DefaultRequestHeaders = { Authorization = new("Bearer", token) } }))
            .Concat(Enumerable.Range(0, 2).Select(_ => app.Backend("rou", token))).ToList();
        // Warm both replicas (JIT, token validation) with another user, so neither wins the race just by being warm.
        var warm = app.Mint("rou", user + "-warmup");
        foreach (var url in replicaUrls)
        {
            using var warmup = new HttpClient { BaseAddress = url, DefaultRequestHeaders = { Authorization = new("Bearer", warm) } };
            (await warmup.GetAsync("/api/resources")).EnsureSuccessStatusCode();
        }

        // One request on each replica first: the second replica continues the first one's count (a shared window).
        using (var first = await clients[0].GetAsync("/api/resources"))
        using (var second = await clients[3].GetAsync("/api/resources"))
        {
            Assert.Equal((Max - 1).ToString(), first.Header("RateLimit-Remaining"));
            Assert.Equal((Max - 2).ToString(), second.Header("RateLimit-Remaining"));
        }

        var responses = await Task.WhenAll(Enumerable.Range(0, total).Select(async i =>
        {
            var client = i % clients.Count;
            using var response = await clients[client].GetAsync("/api/resources");
            return (response.StatusCode, Direct: client < 6 ? client / 3 : -1);
        }));

        Assert.Equal(Max - 2, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(total - (Max - 2), responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.All(new[] { 0, 1 }, replica => Assert.Contains(responses, r => r.Direct == replica));
        // Afterwards both replicas see the exhausted window.
        foreach (var client in new[] { clients[0], clients[3] })
        {
            using var after = await client.GetAsync("/api/resources");
            Assert.Equal(HttpStatusCode.TooManyRequests, after.StatusCode);
            Assert.Equal("0", after.Header("RateLimit-Remaining"));
        }
        clients.ForEach(c => c.Dispose());
        var admitted = responses.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
        Console.WriteLine($"admissions under load: replica 0 direct {admitted.Count(r => r.Direct == 0)} + replica 1 direct {admitted.Count(r => r.Direct == 1)} + through the proxy {admitted.Count(r => r.Direct == -1)} = {admitted.Count} (limit {Max}, 2 admitted before)");
    }

    [Fact]
    public async Task An_upload_on_one_replica_is_listed_by_the_other_at_once_although_both_reuse_their_parsed_catalog()
    {
        var token = app.Mint("rou", "catalog-replicas-" + Guid.NewGuid().ToString("N")[..8], country: "ROU");
        var replicaUrls = await app.ReplicaUrlsAsync("backend-rou", 2, TimeSpan.FromSeconds(30));
        var replicas = replicaUrls.Select(url => new HttpClient { BaseAddress = url, DefaultRequestHeaders = { Authorization = new("Bearer", token) } }).ToList();
        try
        {
            async Task<List<string>> IdsAsync(HttpClient replica)
            {
                using var response = await replica.GetAsync("/api/resources");
                response.EnsureSuccessStatusCode();
                var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                return [.. json.RootElement.GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("id").GetString()!)];
            }
            // Both replicas have read (and parsed) the catalog before each upload.
            foreach (var (writer, reader) in new[] { (0, 1), (1, 0) })
            {
                var before = await IdsAsync(replicas[reader]);
                await IdsAsync(replicas[reader]);
                var id = $"ROU-replica-{writer}-{Guid.NewGuid():N}"[..40];
                using var upload = await replicas[writer].PostAsync("/api/upload", System.Net.Http.Json.JsonContent.Create(new
                {
                    resourceId = id, title = "seen by the other replica", classification = "UNCLASSIFIED", releasabilityTo = new[] { "ROU" }, coi = Array.Empty<string>(),
                }));
                Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
                var after = await IdsAsync(replicas[reader]);
                Assert.DoesNotContain(id, before);
                Assert.Contains(id, after);
            }
        }
        finally
        {
            replicas.ForEach(r => r.Dispose());
        }
    }

    [Fact]
    public async Task Limits_survive_a_backend_restart()
    {
        var user = "rl-restart-" + Guid.NewGuid().ToString("N")[..8];
        var token = app.Mint("usa", user);
        using (var http = app.Backend("usa", token))
        {
            for (var i = 0; i < 5; i++)
            {
                (await http.GetAsync("/api/resources")).EnsureSuccessStatusCode();
            }
        }
        await app.StartAgainAsync("backend-usa", KnownResourceCommands.RestartCommand, TimeSpan.FromMinutes(2));

        using var after = app.Backend("usa", token);
        using var response = await after.GetAsync("/api/resources");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((Max - 6).ToString(), response.Header("RateLimit-Remaining"));
    }

    [Fact]
    public async Task Resetting_one_ip_restores_its_budget_and_leaves_others_untouched()
    {
        const string a = "203.0.113.10", b = "203.0.113.11";
        using var http = app.Backend("usa");
        foreach (var ip in new[] { a, b })
        {
            for (var i = 0; i < Max; i++)
            {
                // Anonymous: 401, but counted against the IP before authorization runs.
                using var counted = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/resources").From(ip));
                Assert.Equal(HttpStatusCode.Unauthorized, counted.StatusCode);
            }
            using var blocked = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/resources").From(ip));
            Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        }

        using var admin = app.Backend("usa", app.MintAdmin());
        var listed = await (await admin.GetAsync("/api/admin/rate-limits")).JsonAsync();
        Assert.Equal("USA", listed.GetProperty("instance").GetString());
        Assert.Equal("redis", listed.GetProperty("store").GetString());
        Assert.Equal(Max, listed.GetProperty("limits").GetProperty("api").GetProperty("max").GetInt32());
        Assert.Equal(900, listed.GetProperty("limits").GetProperty("api").GetProperty("windowSeconds").GetInt32());
        Assert.Equal(3600, listed.GetProperty("limits").GetProperty("strict").GetProperty("windowSeconds").GetInt32());
        Assert.True(listed.GetProperty("activeKeys").GetProperty("api").GetInt32() >= 2);
        Assert.True(await HttpAssertions.MetricAsync(http, "dive_v3_rate_limit_active_keys{limiter_type=\"api\"}") >= 2);
        Assert.True(await HttpAssertions.MetricAsync(http, "dive_v3_rate_limit_blocks_total{limiter_type=\"api\"}") >= 2);

        using var reset = await admin.DeleteAsync($"/api/admin/rate-limits/{a}");
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        var resetBody = await reset.JsonAsync();
        Assert.Equal(a, resetBody.GetProperty("ip").GetString());
        Assert.Equal(1, resetBody.GetProperty("keysDeleted").GetInt32());

        using var restored = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/resources").From(a));
        Assert.Equal(HttpStatusCode.Unauthorized, restored.StatusCode);
        Assert.Equal((Max - 1).ToString(), restored.Header("RateLimit-Remaining"));
        using var still = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/resources").From(b));
        Assert.Equal(HttpStatusCode.TooManyRequests, still.StatusCode);
    }

    [Theory]
    [InlineData("not-an-ip")]
    [InlineData("1")]
    [InlineData("300.1.1.1")]
    public async Task Resetting_an_invalid_ip_is_a_400_with_a_json_error(string ip)
    {
        using var admin = app.Backend("usa", app.MintAdmin());
        using var response = await admin.DeleteAsync($"/api/admin/rate-limits/{ip}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not a valid", (await response.JsonAsync()).GetProperty("message").GetString());
    }

    [Fact]
    public async Task Admin_rate_limit_endpoints_require_the_admin_role()
    {
        using var http = app.Backend("usa", app.Mint("usa", "not-an-admin"));
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/api/admin/rate-limits")).StatusCode);
    }

    [Fact]
    public async Task An_allow_listed_ip_is_never_limited()
    {
        using var http = app.Backend("usa");
        for (var i = 0; i < Max + 5; i++)
        {
            using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/resources").From(RateLimitFixture.AllowedIp));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.False(response.HasHeader("RateLimit-Limit"));
        }
    }

    [Fact]
    public async Task Redis_stopped_at_run_time_falls_back_to_memory_and_returns_to_redis_when_started()
    {
        var token = app.Mint("usa", "rl-fallback-" + Guid.NewGuid().ToString("N")[..8]);
        using var http = app.Backend("usa", token);
        using var anonymous = app.Backend("usa");
        (await http.GetAsync("/api/resources")).EnsureSuccessStatusCode();
        const string switchedLine = "Rate limiting switched to in-memory windows";
        var switchesBefore = await ResourceLogs.CountAsync(app, "backend-usa", switchedLine);

        await app.ExecuteCommandAsync("redis-usa", KnownResourceCommands.StopCommand, TimeSpan.FromMinutes(1));
        try
        {
            // The very first request after the failure is served, with headers, from memory.
            using var first = await http.GetAsync("/api/resources");
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(Max.ToString(), first.Header("RateLimit-Limit"));
            Assert.Equal((Max - 1).ToString(), first.Header("RateLimit-Remaining"));

            var health = await (await anonymous.GetAsync("/health")).JsonAsync();
            Assert.Equal("degraded", health.GetProperty("status").GetString());
            Assert.Equal("degraded", health.GetProperty("dependencies").GetProperty("rate-limit-store").GetString());
            Assert.Equal(1, await HttpAssertions.MetricAsync(anonymous, "dive_v3_rate_limit_store{store=\"memory\"}"));
            Assert.Equal(0, await HttpAssertions.MetricAsync(anonymous, "dive_v3_rate_limit_store{store=\"redis\"}"));

            // Many requests on memory, one log line about the switch.
            for (var i = 0; i < 5; i++)
            {
                (await http.GetAsync("/api/resources")).EnsureSuccessStatusCode();
            }
            Assert.Equal(switchesBefore + 1, await ResourceLogs.CountAsync(app, "backend-usa", switchedLine));
        }
        finally
        {
            await app.StartAgainAsync("redis-usa", KnownResourceCommands.StartCommand, TimeSpan.FromMinutes(2));
        }

        await HttpAssertions.EventuallyAsync(
            async () => await HttpAssertions.MetricAsync(anonymous, "dive_v3_rate_limit_store{store=\"redis\"}") == 1,
            TimeSpan.FromSeconds(60), "rate limiting back on Redis");
        var after = await (await anonymous.GetAsync("/health/detailed")).JsonAsync();
        Assert.Equal("healthy", after.GetProperty("dependencies").GetProperty("rate-limit-store").GetProperty("status").GetString());
        using var back = await http.GetAsync("/api/resources");
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
    }
}
