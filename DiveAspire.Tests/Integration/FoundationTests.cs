using System.Net;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using DiveAspire.Tests.Infrastructure;
using StackExchange.Redis;

namespace DiveAspire.Tests.Integration;

[Collection(FederationCollection.Name)]
public sealed class FoundationTests(FederationFixture federation)
{
    [Fact]
    public void Hub_and_two_spokes_reached_healthy() =>
        // The fixture waited for every resource to be Healthy within its timeout; here we only name them.
        Assert.Equal(["redis-blacklist", "redis-usa", "redis-bel", "redis-rou"], federation.RedisNames);

    [Fact]
    public async Task Metrics_expose_the_dive_series_without_copies_of_the_framework_meters()
    {
        // A request first, so that ASP.NET Core's per-request instruments have measurements to copy.
        using var authenticated = federation.Backend("rou", federation.Mint("usa", "metrics-user", "SECRET"));
        Assert.Equal(HttpStatusCode.OK, (await authenticated.GetAsync("/api/auth/whoami")).StatusCode);
        using var http = federation.Backend("rou");
        var text = await http.GetStringAsync("/metrics");
        Assert.Contains("dive_v3_revocation_check_duration_seconds_bucket", text);
        Assert.Contains("process_cpu_seconds_total", text);
        // OpenTelemetry sends these to the dashboard; prometheus-net's copy cost about a fifth of the request path's CPU.
        Assert.DoesNotContain("microsoft_aspnetcore_hosting_http_server_request_duration", text);
        Assert.DoesNotContain("microsoft_aspnetcore_authentication", text);
    }

    /// <summary>
    /// The AppHost's gen0 budget (32 MiB, <see cref="BackendGen0Budget"/>) reaches the runtime: 12,000 requests on
    /// /health/live (about 80 MB allocated) cost at most four gen0 collections: one when measured. With the runtime's own
    /// budget on these VMs (3-6 MB: no CPU cache sizes exposed) they cost thirteen.
    /// </summary>
    [Fact]
    public async Task A_backend_collects_gen0_once_per_its_32_MiB_budget_not_per_few_megabytes()
    {
        using var http = federation.Backend("bel");
        var before = await Gen0CollectionsAsync(http);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            for (var i = 0; i < 3000; i++)
            {
                using var response = await http.GetAsync("/health/live");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }));
        var collections = await Gen0CollectionsAsync(http) - before;
        Assert.True(collections <= 4, $"{collections} gen0 collections for 12,000 requests: the 32 MiB budget did not reach the runtime");
    }

    private static async Task<double> Gen0CollectionsAsync(HttpClient http) =>
        await HttpAssertions.MetricAsync(http, "dotnet_collection_count_total{generation=\"0\"}")
            ?? throw new Xunit.Sdk.XunitException("/metrics has no gen0 collection count");

    [Theory]
    [InlineData("usa")]
    [InlineData("rou")]
    [InlineData("bel")]
    public async Task Every_backend_reports_both_redis_connections_up(string code)
    {
        using var http = federation.Backend(code);
        var response = await http.GetAsync("/health/redis");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("up", body.GetProperty("status").GetString());
        foreach (var store in new[] { "cache", "blacklist" })
        {
            var detail = body.GetProperty("details").GetProperty(store);
            Assert.Equal("up", detail.GetProperty("status").GetString());
            Assert.True(detail.GetProperty("responseTimeMs").GetDouble() >= 0);
        }

        var health = JsonDocument.Parse(await http.GetStringAsync("/health")).RootElement;
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal(code.ToUpperInvariant(), health.GetProperty("instance").GetString());
        Assert.Equal(code == "usa" ? "hub" : "spoke", health.GetProperty("role").GetString());
    }

    [Theory]
    [InlineData("redis-usa")]
    [InlineData("redis-rou")]
    [InlineData("redis-blacklist")]
    public async Task Redis_refuses_a_missing_or_wrong_password(string redis)
    {
        var (host, port) = await federation.RedisEndpointAsync(redis);
        foreach (var password in new string?[] { null, "wrong-password" })
        {
            var options = new ConfigurationOptions { EndPoints = { { host, port } }, Password = password, AbortOnConnectFail = true, ConnectTimeout = 3000 };
            var ex = await Assert.ThrowsAnyAsync<RedisException>(async () =>
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
                await connection.GetDatabase().PingAsync();
            });
            Assert.Matches("NOAUTH|WRONGPASS|Authentication|AuthenticationFailure", ex.ToString());
        }
    }

    [Fact]
    public async Task Blacklist_store_never_evicts_and_fsyncs_every_write()
    {
        await using var connection = await federation.ConnectAsync("redis-blacklist");
        var server = connection.GetServers()[0];
        Assert.Equal("noeviction", (await server.ConfigGetAsync("maxmemory-policy")).Single().Value);
        Assert.Equal("always", (await server.ConfigGetAsync("appendfsync")).Single().Value);
        Assert.Equal("yes", (await server.ConfigGetAsync("appendonly")).Single().Value);
        Assert.Equal((256L * 1024 * 1024).ToString(), (await server.ConfigGetAsync("maxmemory")).Single().Value);
    }

    [Fact]
    public async Task Hub_redis_runs_with_the_original_settings_on_loopback()
    {
        await using var connection = await federation.ConnectAsync("redis-usa");
        var server = connection.GetServers()[0];
        string Get(string key) => server.ConfigGet(key).Single().Value;
        Assert.Equal("allkeys-lru", Get("maxmemory-policy"));
        Assert.Equal("everysec", Get("appendfsync"));
        Assert.Equal((512L * 1024 * 1024).ToString(), Get("maxmemory"));
        Assert.Equal("900 1 300 10 60 10000", Get("save"));
        Assert.Equal("300", Get("tcp-keepalive"));
        Assert.Equal("127.0.0.1", Get("bind"));
        Assert.Equal("yes", Get("protected-mode"));
    }

    [Fact]
    public async Task A_key_survives_a_restart_of_its_redis_resource()
    {
        var key = $"dive:test:persist:{Guid.NewGuid():N}";
        await using (var connection = await federation.ConnectAsync("redis-bel"))
        {
            await connection.GetDatabase().StringSetAsync(key, "kept");
        }

        await federation.StartAgainAsync("redis-bel", KnownResourceCommands.RestartCommand, TimeSpan.FromSeconds(60));

        await using var after = await federation.ConnectAsync("redis-bel");
        Assert.Equal("kept", (string?)await after.GetDatabase().StringGetAsync(key));
    }
}
