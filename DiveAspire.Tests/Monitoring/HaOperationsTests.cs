using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using DiveAspire.Cli;
using DiveAspire.Tests.Cli;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace DiveAspire.Tests.Monitoring;

/// <summary>
/// Issue 14 item 5 against the real AppHost run with HA and monitoring (<see cref="HaOperationsFixture"/>): every node
/// and Sentinel is scraped, the CLI and the dashboard see the store, a failover from the dashboard fires
/// RevocationStoreFailover and the loss of two Sentinels fires RedisSentinelQuorumLost. Each test leaves the store
/// steady (three nodes, three Sentinels), so the order does not matter.
/// </summary>
[Collection(HaOperationsCollection.Name)]
public sealed class HaOperationsTests(HaOperationsFixture app) : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);
    private EnvironmentScope? _env;

    public void Dispose() => _env?.Dispose();

    [Fact]
    public async Task Every_data_node_and_every_sentinel_is_scraped_with_its_own_instance_label()
    {
        var sentinels = await app.QueryUntilAsync($"up{{job=\"{MonitoringNames.SentinelJob}\"}} == 1", r => r.Count == 3, Wait);
        Assert.Equal(["blacklist-sentinel-1", "blacklist-sentinel-2", "blacklist-sentinel-3"], sentinels.Select(s => s["instance"]).Order(StringComparer.Ordinal));
        var nodes = await app.QueryUntilAsync("redis_up{redis_type=\"token-store\"} == 1", r => r.Count == 3, Wait);
        Assert.Equal(["blacklist", "blacklist-replica-1", "blacklist-replica-2"], nodes.Select(s => s["instance"]).Order(StringComparer.Ordinal));
        await app.QueryUntilAsync("redis_sentinel_master_ckquorum_status{master_name=\"dive-blacklist\"} == 1", r => r.Count == 3, Wait);
        await app.QueryUntilAsync("redis_master_link_up{redis_type=\"token-store\"} == 1", r => r.Count == 2, Wait);
        // The replication panel's first query: the primary's two replicas.
        var panel = await app.QueryUntilAsync(
            "redis_connected_slaves{redis_type=\"token-store\"} and on(instance) redis_instance_info{redis_type=\"token-store\", role=\"master\"}", r => r.Count == 1 && r[0].Value == "2", Wait);
        Assert.Single(panel);
    }

    [Fact]
    public async Task The_cli_and_the_dashboard_see_the_running_store()
    {
        await SteadyAsync();
        var status = (await DiveAsync("redis", "sentinel", "status", "--json")).Expect(0).Json;
        Assert.Equal(2, status.GetProperty("replicas").EnumerateArray().Count(r => r.GetProperty("online").GetBoolean()));
        Assert.Equal(3, status.GetProperty("sentinels").EnumerateArray().Count(s => s.GetProperty("reachable").GetBoolean()));

        var dashboard = await ExecuteAsync(RedisResourceCommands.SentinelStatus);
        Assert.True(dashboard.Success, dashboard.Message);
        Assert.Contains("2 of 2 replicas online, 3 of 3 Sentinels, quorum reachable", dashboard.Message);

        var health = await ExecuteAsync(RedisResourceCommands.Health);
        var checks = JsonDocument.Parse(health.Data!.Value).RootElement.GetProperty("checks").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("passed").GetBoolean());
        Assert.True(checks["replication"], health.Message);
        Assert.True(checks["quorum"], health.Message);
    }

    [Fact]
    public async Task Every_replica_and_every_sentinel_has_its_dashboard_commands()
    {
        await SteadyAsync();
        foreach (var node in app.Ha.InitialReplicas.Select(n => n.ResourceName))
        {
            var status = await ExecuteAsync(RedisResourceCommands.Status, node);
            Assert.True(status.Success, status.Message);
            Assert.StartsWith($"{node} (user operator): Redis ", status.Message);
            var health = await ExecuteAsync(RedisResourceCommands.Health, node);
            Assert.True(health.Success, $"{node}: {health.Message}");
            Assert.Contains(JsonDocument.Parse(health.Data!.Value).RootElement.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "quorum");
        }
        foreach (var sentinel in app.Ha.Sentinels.Select(s => s.ResourceName))
        {
            var status = await ExecuteAsync(RedisResourceCommands.SentinelStatus, sentinel);
            Assert.True(status.Success, $"{sentinel}: {status.Message}");
            Assert.Contains("2 of 2 replicas online, 3 of 3 Sentinels, quorum reachable", status.Message);
            var health = await ExecuteAsync(RedisResourceCommands.SentinelHealth, sentinel);
            Assert.True(health.Success, $"{sentinel}: {health.Message}");
            Assert.StartsWith($"{sentinel}: primary ", health.Message);
            Assert.Contains("2 replicas and 2 other Sentinels known", health.Message);
        }
        var model = app.App.Services.GetRequiredService<DistributedApplicationModel>().Resources;
        Assert.DoesNotContain(model.Where(r => app.Ha.ResourceNames.Contains(r.Name)).SelectMany(r => r.Annotations.OfType<ResourceCommandAnnotation>()),
            a => a.Name == RedisResourceCommands.Flush);

        // A hung Sentinel's health says so (and the others' status names it).
        var hung = app.Ha.Sentinels[^1].ResourceName;
        var pid = await ProcessIdAsync(hung);
        try
        {
            Assert.True(LocalProcesses.Signal(pid, UnixSignal.Stop), $"{hung} was not running");
            var health = await ExecuteAsync(RedisResourceCommands.SentinelHealth, hung);
            Assert.False(health.Success, health.Message);
            Assert.StartsWith($"{hung}: does not answer", health.Message);
        }
        finally
        {
            LocalProcesses.Signal(pid, UnixSignal.Cont);
        }
        await SteadyAsync();
    }

    [Fact]
    public async Task A_failover_from_the_dashboard_moves_the_primary_and_fires_RevocationStoreFailover()
    {
        var before = await SteadyAsync();
        var failover = await ExecuteAsync(RedisResourceCommands.SentinelFailover);
        Assert.True(failover.Success, failover.Message);
        var data = JsonDocument.Parse(failover.Data!.Value).RootElement;
        Assert.StartsWith($"{before} (", data.GetProperty("oldPrimary").GetString());
        Assert.DoesNotMatch($"^{before} \\(", data.GetProperty("newPrimary").GetString());

        await app.QueryUntilAsync("ALERTS{alertname=\"RevocationStoreFailover\", alertstate=\"firing\", master_name=\"dive-blacklist\"}", r => r.Count == 1, Wait);
        Assert.NotEqual(before, await SteadyAsync());
    }

    [Fact]
    public async Task Losing_two_sentinels_fires_RedisSentinelQuorumLost_and_health_fails()
    {
        await SteadyAsync();
        var lost = app.Ha.Sentinels.Skip(1).Select(s => s.ResourceName).ToList();
        try
        {
            foreach (var sentinel in lost)
            {
                Assert.True(LocalProcesses.Signal(await ProcessIdAsync(sentinel), UnixSignal.Kill), $"{sentinel} was not running");
            }
            await app.QueryUntilAsync("ALERTS{alertname=\"RedisSentinelQuorumLost\", alertstate=\"firing\"}", r => r.Count >= 1, Wait);
            var health = (await DiveAsync("redis", "health", "blacklist", "--json")).Expect(1).Json;
            var quorum = health.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "quorum");
            Assert.False(quorum.GetProperty("passed").GetBoolean());
        }
        finally
        {
            foreach (var sentinel in lost)
            {
                await app.StartAgainAsync(sentinel, KnownResourceCommands.StartCommand, Wait);
            }
        }
        await SteadyAsync();
    }

    /// <summary>`dive redis sentinel status` exits 0 (one primary, two replicas online, three Sentinels, quorum); returns the primary's name.</summary>
    private async Task<string> SteadyAsync()
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var run = await DiveAsync("redis", "sentinel", "status", "--json");
            if (run.ExitCode == 0)
            {
                return run.Json.GetProperty("primary").GetProperty("name").GetString()!;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the HA store is not steady after {Wait.TotalSeconds:F0} s:\n{run.Out}\n{run.Error}");
            await Task.Delay(500);
        }
    }

    private async Task<CliRun> DiveAsync(params string[] args)
    {
        if (_env is null)
        {
            var store = app.Topology.Blacklist;
            var sentinels = await Task.WhenAll(app.Ha.Sentinels.Select(s => EndpointAsync(s.ResourceName)));
            var nodes = await Task.WhenAll(app.Ha.DataNodes.Select(n => EndpointAsync(n.ResourceName)));
            _env = new EnvironmentScope()
                .Set("DIVE_USER_SECRETS_FILE", Path.Combine(app.DataPath, "no-user-secrets.json"))
                .Set(DiveAspire.Cli.Connections.SentinelPrimaryResolver.SentinelsVariable, string.Join(',', sentinels))
                .Set("DIVE_BLACKLIST_NODES", string.Join(',', nodes))
                .Set("DIVE_BLACKLIST_HA", "true")
                .Set("DIVE_REDIS_ENDPOINT_BLACKLIST", null)
                .Set(RedisAcl.Admin(store).PasswordEnvironmentVariable, app.Secrets.For(RedisAcl.Admin(store)))
                .Set(RedisAcl.Operator(store).PasswordEnvironmentVariable, app.Secrets.For(RedisAcl.Operator(store)));
        }
        // health blacklist checks the node the Sentinels name as primary.
        if (args is ["redis", "health", ..])
        {
            var primary = (await CliRun.RunAsync(app.Secrets.AllValues, "redis", "sentinel", "status", "--json")).Json.GetProperty("primary").GetProperty("endpoint").GetString();
            _env.Set("DIVE_REDIS_ENDPOINT_BLACKLIST", primary);
        }
        return await CliRun.RunAsync(app.Secrets.AllValues, args);
    }

    private async Task<string> EndpointAsync(string resource)
    {
        var (host, port) = await app.RedisEndpointAsync(resource);
        return $"{host}:{port}";
    }

    private async Task<int> ProcessIdAsync(string sentinel)
    {
        var options = ConfigurationOptions.Parse(await app.ConnectionStringAsync(sentinel));
        options.CommandMap = CommandMap.Sentinel;
        options.User = RedisAcl.AdminUser;
        options.Password = app.Secrets.For(RedisAcl.Admin(app.Topology.Blacklist));
        options.AllowAdmin = true;
        await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        var info = await connection.GetServer(connection.GetEndPoints()[0]).InfoAsync("server");
        return int.Parse(info.SelectMany(g => g).Single(kv => kv.Key == "process_id").Value);
    }

    private async Task<ExecuteCommandResult> ExecuteAsync(string command, string? resource = null)
    {
        using var cts = new CancellationTokenSource(Wait);
        var result = await app.App.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(resource ?? RedisStoreSpec.Blacklist.ResourceName, command, cts.Token);
        foreach (var secret in app.Secrets.AllValues)
        {
            Assert.DoesNotContain(secret, (result.Message ?? "") + result.Data?.Value);
        }
        return result;
    }
}
