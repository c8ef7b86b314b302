using System.Text.Json;
using Aspire.Hosting;
using DiveAspire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace DiveAspire.Tests.Cli;

/// <summary>The dashboard's resource commands, executed through ResourceCommandService against the real federation.</summary>
[Collection(FederationCollection.Name)]
public sealed class DashboardCommandTests(FederationFixture federation)
{
    private async Task<ExecuteCommandResult> ExecuteAsync(string resource, string command)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var result = await federation.App.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(resource, command, cts.Token);
        foreach (var secret in federation.Secrets.AllValues)
        {
            Assert.DoesNotContain(secret, (result.Message ?? "") + result.Data?.Value);
        }
        return result;
    }

    private static JsonElement Data(ExecuteCommandResult result) => JsonDocument.Parse(result.Data!.Value).RootElement;

    [Theory]
    [InlineData("redis-usa")]
    [InlineData("redis-rou")]
    [InlineData("redis-blacklist")]
    public async Task Status_health_and_stats_run_from_the_dashboard(string redis)
    {
        var status = await ExecuteAsync(redis, RedisResourceCommands.Status);
        Assert.True(status.Success, status.Message);
        Assert.True(Data(status).GetProperty("reachable").GetBoolean());
        Assert.Equal(redis, Data(status).GetProperty("name").GetString());
        Assert.Equal("operator", Data(status).GetProperty("user").GetString());
        Assert.StartsWith($"{redis} (user operator): Redis ", status.Message);

        var health = await ExecuteAsync(redis, RedisResourceCommands.Health);
        Assert.True(health.Success, health.Message);
        Assert.Equal("Checks passed: 7/7", health.Message); // the acl check (issue 13) is the seventh
        Assert.Equal(7, Data(health).GetProperty("passed").GetInt32());

        var stats = await ExecuteAsync(redis, RedisResourceCommands.Stats);
        Assert.True(stats.Success, stats.Message);
        Assert.True(Data(stats).GetProperty("memory").GetProperty("usedBytes").GetInt64() > 0);
    }

    [Fact]
    public async Task Flush_from_the_dashboard_empties_only_that_redis_and_asks_first()
    {
        var annotation = federation.App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .Single(r => r.Name == "redis-bel").Annotations.OfType<ResourceCommandAnnotation>().Single(a => a.Name == RedisResourceCommands.Flush);
        Assert.Contains("Delete ALL keys of redis-bel", annotation.ConfirmationMessage);

        await using var bel = await federation.ConnectAsync("redis-bel");
        await using var usa = await federation.ConnectAsync("redis-usa");
        await bel.GetDatabase().StringSetAsync("dashboard-flush:1", 1);
        await usa.GetDatabase().StringSetAsync("dashboard-flush:keep", 1);

        var result = await ExecuteAsync("redis-bel", RedisResourceCommands.Flush);
        Assert.True(result.Success, result.Message);
        Assert.Equal(0, Data(result).GetProperty("keysAfter").GetInt64());
        Assert.Equal(0, await bel.GetServers()[0].DatabaseSizeAsync());
        Assert.True(await usa.GetDatabase().KeyExistsAsync("dashboard-flush:keep"));
        await usa.GetDatabase().KeyDeleteAsync("dashboard-flush:keep");
    }

    [Fact]
    public void The_shared_store_has_no_flush_but_a_revocation_status()
    {
        var commands = federation.App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .Single(r => r.Name == "redis-blacklist").Annotations.OfType<ResourceCommandAnnotation>().Select(a => a.Name).ToList();
        Assert.DoesNotContain(RedisResourceCommands.Flush, commands);
        Assert.Contains(RedisResourceCommands.BlacklistStatus, commands);
        Assert.Contains(RedisResourceCommands.SentinelStatus, commands);
        Assert.Contains(RedisResourceCommands.SentinelFailover, commands);
    }

    [Fact]
    public async Task Sentinel_commands_say_the_store_runs_without_sentinels_when_HA_is_off()
    {
        var failover = federation.App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .Single(r => r.Name == "redis-blacklist").Annotations.OfType<ResourceCommandAnnotation>().Single(a => a.Name == RedisResourceCommands.SentinelFailover);
        Assert.Contains("Make a replica the primary of the revocation store dive-blacklist?", failover.ConfirmationMessage);

        var result = await ExecuteAsync("redis-blacklist", RedisResourceCommands.SentinelStatus);
        Assert.False(result.Success);
        Assert.Equal("redis-blacklist runs without Sentinels: start the app with HA ('./dive up --ha').", result.Message);
    }

    [Fact]
    public async Task Revocation_status_from_the_dashboard_sees_every_backend()
    {
        var result = await ExecuteAsync("redis-blacklist", RedisResourceCommands.BlacklistStatus);
        Assert.True(result.Success, result.Message);
        var backends = Data(result).GetProperty("backends").EnumerateArray().ToList();
        Assert.Equal(["USA", "BEL", "ROU"], backends.Select(b => b.GetProperty("instance").GetString()));
        Assert.All(backends, b => Assert.True(b.GetProperty("connected").GetBoolean()));
    }

    [Theory]
    [InlineData("backend-usa", "USA")]
    [InlineData("backend-bel", "BEL")]
    public async Task Blacklist_sync_from_the_dashboard_reports_the_backend_counts(string backend, string code)
    {
        var result = await ExecuteAsync(backend, BackendResourceCommands.BlacklistSync);
        Assert.True(result.Success, result.Message);
        var data = Data(result);
        Assert.Equal(code, data.GetProperty("instance").GetString());
        Assert.True(data.GetProperty("tokens").GetInt64() >= 0);
        Assert.True(data.GetProperty("users").GetInt64() >= 0);
    }
}
