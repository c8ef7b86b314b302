using System.Diagnostics;
using System.Net;
using System.Text.Json;
using DiveAspire.Tests.Cli;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace DiveAspire.Tests.ContainerRuntime;

/// <summary>
/// What a laptop user meets after `./dive up --runtime container`: the CLI against the Redis containers, monitoring
/// scraping every Redis and raising alerts, a revocation made on the hub enforced on the spoke, and an image that
/// cannot be had failing visibly instead of holding anything back.
/// </summary>
[Collection(PodmanFederationCollection.Name)]
public sealed class ContainerRuntimeUserPathTests(PodmanFederationFixture federation, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan MonitoringTimeout = TimeSpan.FromMinutes(2);
    private EnvironmentScope? _cli;

    public async Task InitializeAsync()
    {
        if (PodmanEnvironment.Ready)
        {
            _cli = await FederationCliEnvironment.SetAsync(federation);
        }
    }

    public Task DisposeAsync()
    {
        _cli?.Dispose();
        return Task.CompletedTask;
    }

    private static void SkipUnlessPodman() => Skip.IfNot(PodmanEnvironment.Ready, PodmanEnvironment.Reason);

    private Task<CliRun> Dive(params string[] args) => CliRun.RunAsync(federation.Secrets.AllValues, args);

    [SkippableFact]
    public async Task Cli_status_all_health_and_blacklist_status_work_against_the_redis_containers()
    {
        SkipUnlessPodman();
        var status = (await Dive("redis", "status-all", "--spokes", "rou", "--json")).Expect(0).Json;
        var rows = status.GetProperty("redis").EnumerateArray().ToList();
        Assert.Equal(["redis-blacklist", "redis-usa", "redis-rou"], rows.Select(r => r.GetProperty("name").GetString()));
        Assert.All(rows, r => Assert.True(r.GetProperty("reachable").GetBoolean(), $"{r}"));
        Assert.Contains("3/3 reachable.", (await Dive("redis", "status-all", "--spokes", "rou")).Expect(0).Out);

        foreach (var instance in new[] { "usa", "rou", "blacklist" })
        {
            var health = (await Dive("redis", "health", instance, "--json")).Expect(0).Json;
            Assert.True(health.GetProperty("healthy").GetBoolean(), $"{instance}: {health}");
        }

        var blacklist = (await Dive("redis", "blacklist", "status", "--spokes", "rou", "--json")).Expect(0).Json;
        var backends = blacklist.GetProperty("backends").EnumerateArray().ToList();
        Assert.Equal(2, backends.Count);
        Assert.All(backends, b => Assert.True(b.GetProperty("subscribed").GetBoolean(), $"{b.GetProperty("instance")} is not subscribed"));
    }

    [SkippableFact]
    public async Task Prometheus_scrapes_every_redis_container_and_every_backend()
    {
        SkipUnlessPodman();
        var redis = await QueryUntilAsync("redis_up", r => r.Count == 3 && r.All(s => s.Value == "1"));
        Assert.Equal(["ROU", "USA", "blacklist"], redis.Select(s => s["instance"]).Order(StringComparer.Ordinal));

        // The backends are host processes: Prometheus reaches them through Aspire's container tunnel.
        var backends = await QueryUntilAsync($"up{{job=\"{MonitoringNames.BackendJob}\"}}", r => r.Count == 2 && r.All(s => s.Value == "1"));
        Assert.Equal(["ROU", "USA"], backends.Select(s => s["instance"]).Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task Rules_load_and_a_stopped_redis_container_raises_RedisDown_in_alertmanager()
    {
        SkipUnlessPodman();
        using (var prometheus = federation.Prometheus())
        {
            var rules = JsonDocument.Parse(await prometheus.GetStringAsync("/api/v1/rules")).RootElement;
            var names = rules.GetProperty("data").GetProperty("groups").EnumerateArray()
                .SelectMany(g => g.GetProperty("rules").EnumerateArray()).Select(r => r.GetProperty("name").GetString()).ToList();
            Assert.Contains("RedisDown", names);
            Assert.Contains("RevocationStoreUnavailable", names);
        }

        await QueryUntilAsync("redis_up{instance=\"ROU\"}", r => r.Count == 1 && r[0].Value == "1");
        await federation.ExecuteCommandAsync("redis-rou", KnownResourceCommands.StopCommand, MonitoringTimeout);
        try
        {
            await QueryUntilAsync("ALERTS{alertname=\"RedisDown\",alertstate=\"firing\",instance=\"ROU\"}", r => r.Count == 1);
            using var alertmanager = federation.Alertmanager();
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var alerts = JsonDocument.Parse(await alertmanager.GetStringAsync("/api/v2/alerts?filter=alertname%3D%22RedisDown%22")).RootElement;
                if (alerts.EnumerateArray().Any(a => a.GetProperty("labels").GetProperty("instance").GetString() == "ROU"))
                {
                    break;
                }
                Assert.True(clock.Elapsed < MonitoringTimeout, $"RedisDown for rou never reached Alertmanager: {alerts}");
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
        finally
        {
            await federation.StartAgainAsync("redis-rou", KnownResourceCommands.StartCommand, MonitoringTimeout);
            await federation.WaitHealthyAsync("backend-rou", MonitoringTimeout);
        }
    }

    [SkippableFact]
    public async Task A_logout_on_the_hub_is_enforced_on_the_spoke()
    {
        SkipUnlessPodman();
        var token = federation.Realms.Mint("usa", "podman-user-" + Guid.NewGuid().ToString("N"));
        using var usa = federation.Backend("usa", token);
        using var rou = federation.Backend("rou", token);
        Assert.Equal(HttpStatusCode.OK, (await rou.GetAsync("/api/auth/whoami")).StatusCode);

        using (var logout = await usa.PostAsync("/api/auth/logout", null))
        {
            Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
        }
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await rou.GetAsync("/api/auth/whoami");
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                Assert.Contains(body.GetProperty("message").GetString(), new[] { "Token has been revoked", "User session has been terminated" });
                break;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the revocation never reached ROU (still {(int)response.StatusCode})");
        }
        output.WriteLine($"logout on USA -> 401 on ROU: {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    [SkippableFact]
    public async Task Grafana_without_an_image_fails_visibly_and_holds_nothing_back()
    {
        SkipUnlessPodman();
        Skip.If(PodmanEnvironment.Podman($"image exists {GrafanaImage}").ExitCode == 0, $"{GrafanaImage} is present here: Grafana can start.");
        var notifications = federation.App.Services.GetRequiredService<ResourceNotificationService>();
        using var cts = new CancellationTokenSource(MonitoringTimeout);
        var failed = await notifications.WaitForResourceAsync(MonitoringNames.Grafana,
            e => e.Snapshot.State?.Text == KnownResourceStates.FailedToStart, cts.Token);
        Assert.Equal(KnownResourceStates.FailedToStart, failed.Snapshot.State?.Text);
        // The reason, in Grafana's console log (the dashboard) and in the AppHost's console.
        Assert.Contains(federation.Logs.Lines, l => l.Category.EndsWith("." + MonitoringNames.Grafana, StringComparison.Ordinal)
            && l.Message.Contains($"image {GrafanaImage} is not on this machine", StringComparison.Ordinal));
        Assert.Contains(federation.Logs.Lines, l => l.Message.Contains("grafana cannot start: image", StringComparison.Ordinal));
        // The fixture already waited for every Redis, backend and the rest of the monitoring to be healthy.
        var model = federation.App.Services.GetRequiredService<DistributedApplicationModel>();
        Assert.DoesNotContain(model.Resources, r => r.Annotations.OfType<WaitAnnotation>().Any(w => w.Resource.Name == MonitoringNames.Grafana));
    }

    private const string GrafanaImage = "docker.io/grafana/grafana:11.4.0";

    private async Task<IReadOnlyList<Monitoring.Sample>> QueryUntilAsync(string promql, Func<IReadOnlyList<Monitoring.Sample>, bool> done)
    {
        using var http = federation.Prometheus();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var body = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}")).RootElement;
            Assert.True(body.GetProperty("status").GetString() == "success", $"query {promql} failed: {body}");
            var result = body.GetProperty("data").GetProperty("result").EnumerateArray().Select(Monitoring.Sample.From).ToList();
            if (done(result))
            {
                return result;
            }
            Assert.True(clock.Elapsed < MonitoringTimeout, $"after {MonitoringTimeout.TotalSeconds:F0} s, {promql} still returns: {string.Join("; ", result)}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }
}
