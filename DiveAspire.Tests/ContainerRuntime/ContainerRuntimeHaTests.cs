using DiveAspire.Tests.Integration;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using DiveAspire.Tests.Cli;
using DiveAspire.Topology;
using Microsoft.IdentityModel.JsonWebTokens;
using Xunit.Abstractions;

namespace DiveAspire.Tests.ContainerRuntime;

/// <summary>
/// Issue 14 in the container runtime under Podman: the HA shared store (primary, two replicas, three Sentinels) runs
/// from the Redis image on the host's network; backends, the CLI and the exporter reach it; `podman kill` of the primary
/// container fails over without losing an acknowledged revocation. Skipped with the reason when Podman is not set up.
/// </summary>
[Collection(PodmanHaCollection.Name)]
public sealed class ContainerRuntimeHaTests(PodmanHaFixture federation, ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private static readonly string[] Backends = ["usa", "rou"];
    private EnvironmentScope? _cli;

    private static void SkipUnlessPodman() => Skip.IfNot(PodmanEnvironment.Ready, PodmanEnvironment.Reason);

    [SkippableFact]
    [Trait("Category", "Security")]
    public void Every_node_and_sentinel_is_the_redis_image_on_the_host_network_with_no_password_in_its_arguments()
    {
        SkipUnlessPodman();
        var secrets = federation.Secrets.AllValues.ToList();
        var ha = federation.Topology.BlacklistHa!;
        foreach (var (resource, container) in federation.HaContainerNames)
        {
            var state = PodmanEnvironment.PodmanOk($"inspect --format {{{{.State.Status}}}}|{{{{.ImageName}}}}|{{{{.HostConfig.NetworkMode}}}} {container}");
            Assert.Equal($"running|{PodmanEnvironment.RedisImage}|host", state);
            // On the host's network: no NET_RAW (sniffing loopback, where every password and token passes), no privilege gain.
            Assert.Equal("[CAP_DAC_OVERRIDE]", PodmanEnvironment.PodmanOk($"inspect --format {{{{.EffectiveCaps}}}} {container}"));
            Assert.Contains("no-new-privileges", PodmanEnvironment.PodmanOk($"inspect --format {{{{.HostConfig.SecurityOpt}}}} {container}"));
            var inspected = PodmanEnvironment.PodmanOk($"inspect --format \"{{{{json .Config.Env}}}} {{{{json .Config.Cmd}}}} {{{{json .Config.Entrypoint}}}} {{{{json .Args}}}}\" {container}");
            Assert.DoesNotContain(secrets, secret => inspected.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain("requirepass", inspected);
            Assert.DoesNotContain("masterauth", inspected);
        }
        // Data nodes keep their data in a named volume each; Sentinels regenerate their state at each start.
        foreach (var node in ha.DataNodes)
        {
            var mount = PodmanEnvironment.PodmanOk($"inspect --format \"{{{{range .Mounts}}}}{{{{if eq .Destination \\\"/data\\\"}}}}{{{{.Name}}}}{{{{end}}}}{{{{end}}}}\" {federation.HaContainerNames[node.ResourceName]}");
            Assert.Equal(federation.VolumeName(node.ResourceName), mount);
        }
    }

    [SkippableFact]
    public async Task The_exporter_container_scrapes_every_node_and_every_sentinel()
    {
        SkipUnlessPodman();
        var nodes = await QueryUntilAsync("redis_up{redis_type=\"token-store\"} == 1", r => r.Count == 3);
        Assert.Equal(["blacklist", "blacklist-replica-1", "blacklist-replica-2"], nodes.Order(StringComparer.Ordinal));
        var sentinels = await QueryUntilAsync($"up{{job=\"{MonitoringNames.SentinelJob}\"}} == 1", r => r.Count == 3);
        Assert.Equal(["blacklist-sentinel-1", "blacklist-sentinel-2", "blacklist-sentinel-3"], sentinels.Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task Podman_kill_of_the_primary_container_fails_over_and_every_acknowledged_revocation_stays_enforced()
    {
        SkipUnlessPodman();
        var primary = await SteadyPrimaryAsync("before the kill");
        var container = federation.HaContainerNames[primary];
        TimeSpan fault;
        string? newPrimary;
        // Both backends log a new user out every 50 ms (tokens of the realm stand-in).
        var revokers = new ConcurrentRevokers(federation, Backends, user => federation.Realms.Mint("usa", user));
        try
        {
            await EventuallyAsync(() => revokers.Acknowledged.Count() >= 6, "revocations acknowledged before the kill");
            Assert.Empty(revokers.Refused);
            PodmanEnvironment.PodmanOk($"kill --signal KILL {container}");
            // Counted from when the kill returned: a revocation sent while the podman CLI was still starting may have
            // reached the old primary, and must not pass for one the new primary acknowledged.
            fault = revokers.Now;
            await EventuallyAsync(() => revokers.AcknowledgedAfter(fault) >= 3, "revocations acknowledged again after podman kill of the primary");
            output.WriteLine($"podman kill of {primary}: revocations acknowledged again after {revokers.FirstAcknowledgedAfter(fault)?.TotalSeconds:F1} s, " +
                $"{revokers.Refused.Count(r => r >= fault)} refused (503) meanwhile");
            // The CLI names the new primary while the old one is still down.
            newPrimary = null;
            await EventuallyAsync(async () =>
            {
                var status = (await DiveAsync("redis", "sentinel", "status", "--json")).Json;
                newPrimary = status.GetProperty("primary").GetProperty("name").GetString();
                return newPrimary != primary;
            }, "dive redis sentinel status naming a new primary");
            Assert.Contains(newPrimary, federation.Topology.BlacklistHa!.DataNodes.Select(n => n.ResourceName));
        }
        finally
        {
            await revokers.DisposeAsync();
            // The orchestrator saw `podman run` end; the old primary comes back as a replica of the new one.
            try
            {
                await federation.StartAgainAsync(primary, KnownResourceCommands.StartCommand, Deadline);
            }
            catch (InvalidOperationException ex)
            {
                throw new InvalidOperationException($"{ex.Message}\nA fresh connection to {primary} now: {await FreshPingAsync(primary)}", ex);
            }
        }
        Assert.Empty(revokers.Unexpected);
        Assert.Equal(newPrimary, await SteadyPrimaryAsync($"{primary} restarted after podman kill"));

        // Every acknowledged revocation is in the store and refused by every backend.
        await using (var store = await federation.ConnectAsync(newPrimary!))
        {
            var db = store.GetDatabase();
            var lost = new List<string>();
            foreach (var (token, _) in revokers.Acknowledged)
            {
                if (!await db.KeyExistsAsync($"blacklist:{new JsonWebToken(token).Id}"))
                {
                    lost.Add(new JsonWebToken(token).Id);
                }
            }
            output.WriteLine($"{revokers.Acknowledged.Count()} revocations acknowledged, {revokers.Refused.Count} refused, {lost.Count} acknowledged and lost");
            Assert.Empty(lost);
        }
        foreach (var code in Backends)
        {
            await EventuallyAsync(async () =>
            {
                foreach (var (token, _) in revokers.Acknowledged)
                {
                    using var http = federation.Backend(code, token);
                    using var response = await http.GetAsync("/api/auth/whoami");
                    if (response.StatusCode != HttpStatusCode.Unauthorized)
                    {
                        return false;
                    }
                }
                return true;
            }, $"every acknowledged revocation refused by backend-{code}");
        }
    }

    private async Task<string> FreshPingAsync(string node)
    {
        try
        {
            await using var connection = await federation.ConnectAsync(node);
            var pong = await connection.GetDatabase().PingAsync();
            var role = (await connection.GetServers()[0].InfoAsync("replication")).SelectMany(g => g).FirstOrDefault(kv => kv.Key == "role").Value;
            return $"PING {pong.TotalMilliseconds:F0} ms, role {role}, endpoint {await EndpointAsync(node)}";
        }
        catch (Exception ex)
        {
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    /// <summary>Until `dive redis sentinel status` exits 0 (one primary, two replicas online, three Sentinels, quorum): the primary's name.</summary>
    private async Task<string> SteadyPrimaryAsync(string when)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var run = await DiveAsync("redis", "sentinel", "status", "--json");
            if (run.ExitCode == 0)
            {
                return run.Json.GetProperty("primary").GetProperty("name").GetString()!;
            }
            Assert.True(deadline.Elapsed < Deadline, $"the HA store is not steady {when} after {Deadline.TotalSeconds:F0} s:\n{run.Out}\n{run.Error}");
            await Task.Delay(500);
        }
    }

    /// <summary>The CLI pointed at this run's Sentinels and nodes (random ports) with the test's secrets.</summary>
    private async Task<CliRun> DiveAsync(params string[] args)
    {
        if (_cli is null)
        {
            var store = federation.Topology.Blacklist;
            var ha = federation.Topology.BlacklistHa!;
            var sentinels = await Task.WhenAll(ha.Sentinels.Select(s => EndpointAsync(s.ResourceName)));
            var nodes = await Task.WhenAll(ha.DataNodes.Select(n => EndpointAsync(n.ResourceName)));
            _cli = new EnvironmentScope()
                .Set("DIVE_USER_SECRETS_FILE", Path.Combine(federation.DataPath, "no-user-secrets.json"))
                .Set(DiveAspire.Cli.Connections.SentinelPrimaryResolver.SentinelsVariable, string.Join(',', sentinels))
                .Set(DiveAspire.Cli.Connections.SentinelResolver.NodesVariable, string.Join(',', nodes))
                .Set(DiveAspire.Cli.Connections.SentinelResolver.HighAvailabilityVariable, "true")
                .Set(DiveAspire.Cli.Connections.ConnectionResolver.RedisEndpointVariable(store), null)
                .Set(RedisAcl.Admin(store).PasswordEnvironmentVariable, federation.Secrets.For(RedisAcl.Admin(store)))
                .Set(RedisAcl.Operator(store).PasswordEnvironmentVariable, federation.Secrets.For(RedisAcl.Operator(store)));
        }
        return await CliRun.RunAsync(federation.Secrets.AllValues, args);
    }

    private async Task<string> EndpointAsync(string resource)
    {
        var (host, port) = await federation.RedisEndpointAsync(resource);
        return $"{host}:{port}";
    }

    /// <summary>The <c>instance</c> labels of an instant query's result, once <paramref name="done"/> accepts it.</summary>
    private async Task<List<string>> QueryUntilAsync(string promql, Func<List<string>, bool> done)
    {
        using var prometheus = federation.Prometheus();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var body = JsonDocument.Parse(await prometheus.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}")).RootElement;
            var instances = body.GetProperty("data").GetProperty("result").EnumerateArray()
                .Select(r => r.GetProperty("metric").GetProperty("instance").GetString()!).ToList();
            if (done(instances))
            {
                return instances;
            }
            Assert.True(clock.Elapsed < Deadline, $"after {Deadline.TotalSeconds:F0} s, {promql} returns only: {string.Join(", ", instances)}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what) =>
        await EventuallyAsync(() => Task.FromResult(condition()), what);

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Deadline, $"timed out after {Deadline.TotalSeconds:F0} s waiting for: {what}");
            await Task.Delay(200);
        }
    }

    public void Dispose() => _cli?.Dispose();
}
