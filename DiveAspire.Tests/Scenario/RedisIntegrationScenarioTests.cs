using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using DiveAspire.Cli;
using DiveAspire.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Scenario;

/// <summary>
/// `./dive test redis-integration`: the original five-phase plan's scenario, run against a real federation.
/// Each test restores what it breaks, so the order does not matter.
/// </summary>
[Trait("Category", "RedisIntegration")]
[Collection(ScenarioCollection.Name)]
public sealed class RedisIntegrationScenarioTests(ScenarioFixture federation, ITestOutputHelper output)
{
    [Fact]
    public async Task A_hub_token_for_testuser_usa_1_works_in_a_federated_request_on_ROU()
    {
        var token = federation.Mint("usa", "testuser-usa-1", "SECRET");
        using var rou = federation.Backend("rou", token);
        using var response = await rou.GetAsync("/api/resources");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("ROU", body.GetProperty("instance").GetString());
        Assert.Equal("USA", body.GetProperty("country").GetString());
        // ROU's seeded documents a SECRET USA user of the NATO COI may read (uploads, if any, are other tests').
        var seeded = body.GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("id").GetString()!)
            .Where(id => id.StartsWith("ROU-", StringComparison.Ordinal) && id.EndsWith("-001", StringComparison.Ordinal));
        Assert.Equal(
            ["ROU-UNCLASSIFIED-001", "ROU-CONFIDENTIAL-001", "ROU-SECRET-001", "ROU-NATO_UNCLASSIFIED-001", "ROU-NATO_RESTRICTED-001", "ROU-NATO_CONFIDENTIAL-001", "ROU-NATO_SECRET-001"],
            seeded);
    }

    [Fact]
    public async Task Logout_on_USA_is_rejected_on_ROU_and_BEL_within_one_second()
    {
        var token = federation.Mint("usa", $"testuser-usa-{Guid.NewGuid():N}"[..24]);
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "rou", token));

        using var usa = federation.Backend("usa", token);
        var (status, _) = await PostAsync(usa, "/api/auth/logout");
        Assert.Equal(HttpStatusCode.OK, status);
        var acknowledged = Stopwatch.StartNew();

        var times = await Task.WhenAll(new[] { "rou", "bel" }.Select(async code =>
        {
            var elapsed = await EventuallyAsync(async () => await WhoAmIAsync(federation, code, token) == HttpStatusCode.Unauthorized,
                $"{code} rejects the revoked token", TimeSpan.FromSeconds(5), pollMs: 1);
            return (code, ms: acknowledged.Elapsed.TotalMilliseconds);
        }));
        foreach (var (code, ms) in times)
        {
            output.WriteLine($"logout on USA acknowledged -> {code.ToUpperInvariant()} rejects: {ms:F1} ms");
            Assert.True(ms < 1000, $"{code} took {ms:F0} ms");
        }
    }

    [Fact]
    public async Task Rate_limits_of_ROU_with_two_replicas_are_shared_and_admit_exactly_the_limit()
    {
        var token = federation.Mint("usa", $"rl-scenario-{Guid.NewGuid():N}"[..24]);
        using var rou = federation.Backend("rou", token);

        const int Requests = ScenarioFixture.ApiLimit * 3;
        var statuses = await Task.WhenAll(Enumerable.Range(0, Requests).Select(async _ =>
        {
            using var response = await rou.GetAsync("/api/resources");
            return response.StatusCode;
        }));
        var admitted = statuses.Count(s => s == HttpStatusCode.OK);
        output.WriteLine($"{Requests} concurrent requests to ROU's two replicas: {admitted} admitted, {statuses.Count(s => s == HttpStatusCode.TooManyRequests)} rejected (limit {ScenarioFixture.ApiLimit})");
        Assert.Equal(ScenarioFixture.ApiLimit, admitted);
        Assert.Equal(Requests - ScenarioFixture.ApiLimit, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(2, federation.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == "backend-rou").GetReplicaCount());
    }

    [Fact]
    public async Task A_decision_cache_invalidation_on_USA_reaches_ROU_and_BEL()
    {
        var user = $"authz-scenario-{Guid.NewGuid():N}"[..24];
        var token = federation.Mint("usa", user, "SECRET");
        async Task<bool> CachedAsync(string code)
        {
            using var http = federation.Backend(code, token);
            var (status, body) = await GetAsync(http, $"/api/authz/decision/{code.ToUpperInvariant()}-SECRET-001");
            Assert.Equal(HttpStatusCode.OK, status);
            return body.GetProperty("cached").GetBoolean();
        }
        foreach (var code in new[] { "rou", "bel" })
        {
            await CachedAsync(code);
            Assert.True(await CachedAsync(code), $"{code} caches the decision");
        }

        using var admin = federation.Backend("usa", federation.MintAdmin());
        var (invalidated, _) = await PostAsync(admin, "/api/admin/authz/invalidate", JsonSerializer.Serialize(new { scope = "user", identifier = user }));
        Assert.Equal(HttpStatusCode.OK, invalidated);

        foreach (var code in new[] { "rou", "bel" })
        {
            // The next decision is computed again: the invalidation published on USA arrived.
            await EventuallyAsync(async () => !await CachedAsync(code), $"{code} dropped the user's cached decision", TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Revocations_survive_kill_9_of_the_shared_store_with_zero_acknowledged_lost()
    {
        const int Count = 120;
        var tokens = Enumerable.Range(0, Count).Select(i => (Jti: Guid.NewGuid().ToString(), User: $"persist-{i}-{Guid.NewGuid():N}"[..20])).ToList();
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
        var refused = 0;
        var pid = await RedisProcessIdAsync("redis-blacklist");
        var killed = false;
        try
        {
            using var gate = new SemaphoreSlim(8);
            var logouts = tokens.Select(async (t, i) =>
            {
                await gate.WaitAsync();
                try
                {
                    using var http = federation.Backend(i % 2 == 0 ? "usa" : "rou", federation.Mint("usa", t.User, jti: t.Jti));
                    using var response = await http.PostAsync("/api/auth/logout", null);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        acknowledged.Add(t.Jti);
                    }
                    else
                    {
                        Interlocked.Increment(ref refused);
                    }
                }
                finally
                {
                    gate.Release();
                }
            }).ToList();

            // Kill the store with SIGKILL (no shutdown save) while revocations are in flight.
            await EventuallyAsync(() => Task.FromResult(acknowledged.Count >= Count / 3), "a third of the revocations acknowledged", pollMs: 5);
            Assert.True(LocalProcesses.Signal(pid, UnixSignal.Kill), $"redis-server {pid} was not running");
            killed = true;
            await Task.WhenAll(logouts);
        }
        finally
        {
            if (killed)
            {
                await federation.StartAgainAsync("redis-blacklist", KnownResourceCommands.StartCommand, TimeSpan.FromSeconds(60));
            }
            else
            {
                await federation.WaitHealthyAsync("redis-blacklist", TimeSpan.FromSeconds(60));
            }
        }

        Assert.NotEqual(pid, await RedisProcessIdAsync("redis-blacklist"));
        await using var store = await federation.ConnectAsync("redis-blacklist");
        var db = store.GetDatabase();
        var lost = new List<string>();
        foreach (var jti in acknowledged)
        {
            if (!await db.KeyExistsAsync($"blacklist:{jti}"))
            {
                lost.Add(jti);
            }
        }
        output.WriteLine($"revocations: {Count} sent, {acknowledged.Count} acknowledged, {refused} refused (store down), {lost.Count} acknowledged lost");
        Assert.True(acknowledged.Count >= Count / 3);
        Assert.Empty(lost);
        Assert.Equal(Count, acknowledged.Count + refused);
    }

    [Fact]
    public async Task A_spoke_whose_redis_dies_degrades_keeps_checking_revocations_and_recovers_without_restart()
    {
        var backendPid = await BackendProcessIdAsync("bel");
        var pid = await RedisProcessIdAsync("redis-bel");
        var killed = false;
        try
        {
            Assert.True(LocalProcesses.Signal(pid, UnixSignal.Kill), $"redis-server {pid} was not running");
            killed = true;
            await EventuallyAsync(async () => await HealthStatusAsync(federation, "bel") == "degraded", "backend-bel reports degraded");

            // The limiter falls back to memory: limited requests are still answered, with their headers.
            var limited = federation.Mint("usa", $"fallback-{Guid.NewGuid():N}"[..20]);
            using (var bel = federation.Backend("bel", limited))
            using (var response = await bel.GetAsync("/api/resources"))
            {
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{federation.RecentLogs("backend-bel", 60)}");
                Assert.True(response.Headers.Contains("RateLimit-Remaining"));
            }
            await EventuallyAsync(async () => await MetricAsync(federation, "bel", "dive_v3_rate_limit_store{store=\"memory\"}") == 1, "bel's limiter uses memory");

            // Revocation checks do not depend on the spoke's own Redis.
            var token = federation.Mint("usa", $"degraded-{Guid.NewGuid():N}"[..20]);
            Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "bel", token));
            using (var usa = federation.Backend("usa", token))
            {
                Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/logout")).Status);
            }
            await EventuallyAsync(async () => await WhoAmIAsync(federation, "bel", token) == HttpStatusCode.Unauthorized, "bel rejects a token revoked during the outage");
        }
        finally
        {
            if (killed)
            {
                await federation.StartAgainAsync("redis-bel", KnownResourceCommands.StartCommand, TimeSpan.FromSeconds(60));
            }
            else
            {
                await federation.WaitHealthyAsync("redis-bel", TimeSpan.FromSeconds(60));
            }
        }
        await EventuallyAsync(async () => await HealthStatusAsync(federation, "bel") == "healthy", "backend-bel healthy again");
        await EventuallyAsync(async () => await MetricAsync(federation, "bel", "dive_v3_rate_limit_store{store=\"redis\"}") == 1, "bel's limiter back on Redis");
        Assert.Equal(backendPid, await BackendProcessIdAsync("bel"));
    }

    [Fact]
    public async Task Every_redis_refuses_unauthenticated_and_wrong_password_commands()
    {
        foreach (var redis in federation.RedisNames)
        {
            var (host, port) = await federation.RedisEndpointAsync(redis);
            foreach (var password in new string?[] { null, "not-the-password" })
            {
                var options = new ConfigurationOptions { EndPoints = { { host, port } }, Password = password, AbortOnConnectFail = true, ConnectTimeout = 3000 };
                var ex = await Assert.ThrowsAnyAsync<RedisException>(async () =>
                {
                    await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
                    await connection.GetDatabase().PingAsync();
                });
                Assert.Matches("NOAUTH|WRONGPASS|Authentication", ex.ToString());
            }
        }
    }

    [Fact]
    public async Task No_secret_appears_in_any_log_line_of_any_resource()
    {
        // Make every backend log something first: a request, a revocation, a Redis reconnect warning is enough.
        foreach (var code in new[] { "usa", "rou", "bel" })
        {
            using var http = federation.Backend(code);
            await http.GetAsync("/health");
        }
        var lines = federation.Logs.Lines;
        var resourceCategories = lines.Select(l => l.Category).Where(c => c.Contains("backend-") || c.Contains("redis-")).Distinct().ToList();
        output.WriteLine($"{lines.Count} log lines captured; resource categories: {string.Join(", ", resourceCategories)}");
        Assert.Contains(resourceCategories, c => c.Contains("backend-usa", StringComparison.Ordinal));
        Assert.Contains(resourceCategories, c => c.Contains("redis-blacklist", StringComparison.Ordinal));
        foreach (var secret in federation.Secrets.AllValues)
        {
            var leak = lines.FirstOrDefault(l => l.Message.Contains(secret, StringComparison.Ordinal));
            Assert.True(leak == default, $"a secret appears in a log line of {leak.Category}: {Redacted(leak.Message, secret)}");
        }
    }

    private static string Redacted(string? message, string secret)
    {
        var text = (message ?? "").Replace(secret, "<SECRET>", StringComparison.Ordinal);
        return text.Length <= 600 ? text : text[..600];
    }

    private async Task<int> RedisProcessIdAsync(string redis)
    {
        await using var connection = await federation.ConnectAsync(redis);
        var info = await connection.GetServers()[0].InfoAsync("server");
        return int.Parse(info.SelectMany(g => g).Single(kv => kv.Key == "process_id").Value);
    }

    private async Task<string> BackendProcessIdAsync(string code)
    {
        // The backend's start time identifies the process: a restart would change it.
        using var http = federation.Backend(code);
        var metrics = await http.GetStringAsync("/metrics");
        return metrics.Split('\n').First(l => l.StartsWith("process_start_time_seconds ", StringComparison.Ordinal));
    }
}
