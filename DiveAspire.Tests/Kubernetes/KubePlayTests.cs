using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DiveAspire.Tests.ContainerRuntime;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Xunit.Abstractions;

namespace DiveAspire.Tests.Kubernetes;

/// <summary>The hub and one spoke published as a user publishes them, with the backend stand-in image.</summary>
public sealed class KubePlayManifestsFixture : PublishedManifestsFixture
{
    public const string BackendImage = "localhost/dive-backend:standin";
    protected override IEnumerable<string> ExtraPublishArgs => ["Dive:Spokes=rou", $"Dive:Publish:BackendImage={BackendImage}"];
}

/// <summary>
/// The published manifests of the hub (USA) and one spoke (ROU), run for real with <c>podman kube play</c>: every
/// Deployment in its own pod (its own network namespace, so nothing reaches another through localhost) on a network of
/// its own, from the stand-in images (Redis, exporter, Prometheus, Alertmanager, and the backend built by
/// build-backend-standin.sh). What Podman 4.3 cannot play, and what stands in for it, is in <see cref="KubePlayConversion"/>;
/// besides that, Keycloak and Grafana are not played (no image without a registry): the backends trust an
/// <see cref="OidcRealmStandIn"/> for both realms instead, through the one setting that names a realm's metadata.
/// Then every readiness probe of the manifests passes, a token of the hub's realm is accepted on the spoke, and after a
/// logout on the hub the spoke refuses it within 1 s (through the hub's Sentinels and shared store); a logout on the spoke
/// is relayed to the hub's backend (the spoke's store user is read-only) and refused on both. Everything is
/// removed afterwards, on failure too. Skipped with the setup script's reason only where Podman cannot be set up.
/// </summary>
public sealed class KubePlayTests(KubePlayManifestsFixture published, ITestOutputHelper output) : IClassFixture<KubePlayManifestsFixture>, IAsyncLifetime
{
    private static readonly string[] Codes = ["usa", "rou"];
    private static readonly string[] NoImageHere = ["keycloak", "grafana"];
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(5);

    private readonly string _prefix = "dive-kp-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
    private readonly string _work = Directory.CreateTempSubdirectory("dive-kube-play-").FullName; // 0700: the played YAML holds the secrets
    private readonly List<string> _played = [];
    private readonly OidcRealmStandIn _realms = new(Codes) { ListenAddress = PrimaryAddress() };
    private KubePlayConversion? _conversion;
    private bool _networkCreated;

    private string Network => $"{_prefix}-net";

    [SkippableFact]
    public async Task The_hub_and_a_spoke_play_in_separate_pods_and_a_hub_logout_is_refused_on_the_spoke_within_a_second()
    {
        Skip.IfNot(PodmanEnvironment.Ready, PodmanEnvironment.Reason);
        await BuildBackendImageAsync();
        await _realms.StartAsync();
        PodmanEnvironment.PodmanOk($"network create {Network}");
        _networkCreated = true;
        var subnet = PodmanEnvironment.PodmanOk($"network inspect {Network} --format {{{{range.Subnets}}}}{{{{.Subnet}}}}{{{{end}}}}");

        var secrets = new Dictionary<string, List<JsonObject>>();
        foreach (var code in Codes)
        {
            secrets[code] = KubernetesSchema.Documents(await PublishedManifestsFixture.KustomizeAsync(Path.Combine(published.Output, "secrets", code)));
        }
        _conversion = new KubePlayConversion(_prefix, subnet, Codes.ToDictionary(c => c, published.Objects), secrets, NoImageHere);
        var clock = Stopwatch.StartNew();
        foreach (var code in Codes)
        {
            var file = Path.Combine(_work, $"{code}.yaml");
            File.WriteAllText(file, _conversion.Convert(code, BackendEnvironment));
            _played.Add(file);
            var addresses = string.Concat(_conversion.Workloads.Where(w => w.Code == code).Select(w => $" --ip {w.Address}"));
            var (exit, log) = PodmanEnvironment.Podman($"kube play --network {Network}{addresses} {file}", TimeSpan.FromMinutes(3));
            Assert.True(exit == 0, $"podman kube play of {code} failed ({exit}): {log}");
        }
        // Every hostAlias names a planned address: a pod that got another one would send its Service's clients elsewhere.
        var played = PlayedAddresses();
        output.WriteLine(played.Report);
        Assert.True(played.AllAsPlanned, $"a pod's address is not the one its Service names:\n{played.Report}");
        var shared = SharedVolumes();
        Assert.True(shared.Count == 0, $"pods share a volume (Podman rewrites it for each, or each writes the others' files):\n  {string.Join("\n  ", shared)}");
        await WaitAllReadyAsync();
        // Separate pods, each its own network namespace: nothing reaches another workload through localhost.
        var namespaces = _conversion.Workloads.Select(w => PodmanEnvironment.PodmanOk($"inspect --format {{{{.NetworkSettings.SandboxKey}}}} {w.Container}")).ToList();
        Assert.Equal(_conversion.Workloads.Count, namespaces.Where(n => n.Length > 0).Distinct().Count());
        output.WriteLine($"{_conversion.Workloads.Count} pods ready {clock.Elapsed.TotalSeconds:F1} s after the first kube play: {string.Join(", ", _conversion.Workloads)}");

        var token = _realms.Mint("usa", $"kube-play-{Guid.NewGuid():N}"[..24], issuer: PublishedIssuer("usa"));
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync("rou", token));
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync("usa", token));

        // A logout is acknowledged only once a replica has it (WAIT): right after the pods are ready the replicas may still
        // be in their first sync, and the backend answers 503 (not acknowledged) until they are; a client retries.
        var acknowledged = Stopwatch.StartNew();
        HttpStatusCode logoutStatus;
        using (var hub = Backend("usa", token))
        {
            do
            {
                using var logout = await hub.PostAsync("/api/auth/logout", null);
                logoutStatus = logout.StatusCode;
                if (logoutStatus == HttpStatusCode.ServiceUnavailable)
                {
                    await Task.Delay(200);
                }
            }
            while (logoutStatus == HttpStatusCode.ServiceUnavailable && acknowledged.Elapsed < TimeSpan.FromSeconds(30));
        }
        output.WriteLine($"hub logout acknowledged after {acknowledged.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(HttpStatusCode.OK, logoutStatus);
        var revoked = Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            status = await WhoAmIAsync("rou", token);
        }
        while (status == HttpStatusCode.OK && revoked.Elapsed < TimeSpan.FromSeconds(1));
        output.WriteLine($"hub logout refused on the spoke after {revoked.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(HttpStatusCode.Unauthorized, status);

        // The spoke's store user is read-only: its logout goes to the hub's backend (the relay URL from its federation
        // ConfigMap), which writes it; the hub answers, and both refuse the token.
        var spokeToken = _realms.Mint("rou", $"kube-play-{Guid.NewGuid():N}"[..24], issuer: PublishedIssuer("rou"));
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync("usa", spokeToken));
        using (var spoke = Backend("rou", spokeToken))
        using (var logout = await spoke.PostAsync("/api/auth/logout", null))
        {
            var answer = await logout.Content.ReadAsStringAsync();
            Assert.True(logout.StatusCode == HttpStatusCode.OK, $"spoke logout: {(int)logout.StatusCode} {answer}");
            Assert.Equal("USA", System.Text.Json.JsonDocument.Parse(answer).RootElement.GetProperty("instance").GetString());
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIAsync("rou", spokeToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIAsync("usa", spokeToken));
    }

    /// <summary>What stands in for Keycloak: each backend reads both realms' metadata from the stand-in.</summary>
    private IReadOnlyDictionary<string, string> BackendEnvironment(string deployment) => deployment == "backend"
        ? Codes.ToDictionary(code => $"Dive__Auth__Realms__{code}__MetadataAddress", _realms.MetadataAddress)
        : new Dictionary<string, string>();

    private string PublishedIssuer(string code)
    {
        var backend = published.Object(code, "Deployment", "backend");
        var env = backend["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray();
        return (string)env.Single(e => (string?)e!["name"] == $"Dive__Auth__Realms__{code}__Issuer")!["value"]!;
    }

    private async Task BuildBackendImageAsync()
    {
        var script = Path.Combine(PodmanEnvironment.RepositoryRoot, "DiveAspire.Tests", "Kubernetes", "build-backend-standin.sh");
        var environment = PodmanEnvironment.Variables.Where(v => v.Value is not null).ToDictionary(v => v.Key, v => v.Value!);
        environment["DIVE_CONFIGURATION"] = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var (code, _, error) = await ExternalProcess.RunAsync(script, [KubePlayManifestsFixture.BackendImage], TimeSpan.FromMinutes(10), environment);
        Assert.True(code == 0, $"the backend stand-in image could not be built: {error}");
    }

    /// <summary>Each manifest's readiness probe, evaluated against its pod's address; fails at once when a container stopped.</summary>
    private async Task WaitAllReadyAsync()
    {
        var waiting = _conversion!.Workloads.ToList();
        var deadline = Stopwatch.StartNew();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        while (waiting.Count > 0)
        {
            foreach (var workload in waiting.ToList())
            {
                if (await ReadyAsync(http, workload))
                {
                    waiting.Remove(workload);
                    output.WriteLine($"ready after {deadline.Elapsed.TotalSeconds:F1} s: {workload}");
                }
                else if (PodmanEnvironment.Podman($"inspect --format {{{{.State.Status}}}} {workload.Container}").Output.Trim() is var state && state != "running")
                {
                    throw new Xunit.Sdk.XunitException($"{workload} is {state}:\n{Logs(workload)}");
                }
            }
            if (deadline.Elapsed > ReadyTimeout)
            {
                // The Sentinels' logs too: a backend that is not ready has most often not found their majority.
                var sentinels = _conversion.Workloads.Where(w => w.Name.Contains("sentinel", StringComparison.Ordinal)).Except(waiting);
                throw new Xunit.Sdk.XunitException($"not ready within {ReadyTimeout.TotalMinutes} min: {string.Join(", ", waiting)}\n"
                    + await NetworkReportAsync(http) + "\n"
                    + string.Join('\n', waiting.Concat(sentinels).Select(Logs)));
            }
            await Task.Delay(500);
        }
    }

    private static async Task<bool> ReadyAsync(HttpClient http, PlayedWorkload workload)
    {
        try
        {
            if (workload.ProbePath is { } path)
            {
                using var response = await http.GetAsync($"http://{workload.Address}:{workload.ProbePort}{path}");
                return (int)response.StatusCode is >= 200 and < 400;
            }
            using var tcp = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await tcp.ConnectAsync(workload.Address, workload.ProbePort, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Each workload's planned address (the one every hostAlias of its Services names) beside its pod's actual one.</summary>
    private (bool AllAsPlanned, string Report) PlayedAddresses()
    {
        var lines = new List<string>();
        var allAsPlanned = true;
        foreach (var workload in _conversion!.Workloads)
        {
            var infra = PodmanEnvironment.Podman($"pod inspect --format {{{{.InfraContainerID}}}} {workload.Pod}").Output.Trim();
            var actual = PodmanEnvironment.Podman($"inspect --format \"{{{{range .NetworkSettings.Networks}}}}{{{{.IPAddress}}}} {{{{.MacAddress}}}}{{{{end}}}}\" {infra}").Output.Trim().Split(' ');
            var asPlanned = actual[0] == workload.Address.ToString();
            allAsPlanned &= asPlanned;
            lines.Add($"{workload.Pod}: planned {workload.Address}, has {string.Join(" mac ", actual)}{(asPlanned ? "" : "  <-- MISMATCH")}");
        }
        return (allAsPlanned, "pod addresses (planned = hostAliases):\n  " + string.Join("\n  ", lines));
    }

    /// <summary>Every named volume that more than one played container mounts, with those containers.</summary>
    private List<string> SharedVolumes() => _conversion!.Workloads
        .SelectMany(w => PodmanEnvironment.PodmanOk($"inspect --format \"{{{{range .Mounts}}}}{{{{.Name}}}} {{{{end}}}}\" {w.Container}")
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(volume => (Volume: volume, w.Container)))
        .GroupBy(m => m.Volume)
        .Where(g => g.Count() > 1)
        .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Container))}")
        .ToList();

    /// <summary>
    /// What a next failure needs to explain itself: the pods' addresses against the hostAliases, each workload reachable
    /// from this machine now or not, and the hosts file the played Sentinels and backends resolve names with.
    /// </summary>
    private async Task<string> NetworkReportAsync(HttpClient http)
    {
        // A second holder of a pod's address on the network (a leftover of an earlier run, say) answers ARP for it too:
        // this machine's neighbour table then shows another MAC than the pod's for that address.
        var report = new System.Text.StringBuilder(PlayedAddresses().Report)
            .Append("\ncontainers on ").Append(Network).Append(": ")
            .Append(PodmanEnvironment.Podman($"ps -a --filter network={Network} --format {{{{.Names}}}}").Output.Trim().Replace('\n', ' '))
            .Append("\nthis machine's neighbours: ").Append(Neighbours())
            .Append("\nreachable from this machine now:");
        foreach (var workload in _conversion!.Workloads)
        {
            report.Append($"\n  {workload}: {(await ReadyAsync(http, workload) ? "ready" : "NOT ready")} ({PodmanEnvironment.Podman($"inspect --format {{{{.State.Status}}}} {workload.Container}").Output.Trim()})");
        }
        foreach (var workload in _conversion.Workloads.Where(w => w.Name is "backend" || w.Name.Contains("sentinel", StringComparison.Ordinal)))
        {
            var hosts = PodmanEnvironment.Podman($"inspect --format {{{{.HostsPath}}}} {workload.Container}").Output.Trim();
            var lines = File.Exists(hosts) ? File.ReadAllLines(hosts).Where(l => l.Contains("sentinel", StringComparison.Ordinal) || l.Contains(workload.Pod, StringComparison.Ordinal)) : [$"(no hosts file at '{hosts}')"];
            report.Append($"\n--- {workload.Container} /etc/hosts (Sentinels, itself):\n  ").AppendJoin("\n  ", lines);
        }
        return report.ToString();
    }

    private static string Neighbours()
    {
        try
        {
            var start = new ProcessStartInfo("ip", "-4 neigh show") { RedirectStandardOutput = true, UseShellExecute = false };
            using var ip = Process.Start(start)!;
            var table = ip.StandardOutput.ReadToEnd();
            ip.WaitForExit(5000);
            return "\n  " + string.Join("\n  ", table.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"(ip: {ex.Message})";
        }
    }

    private static string Logs(PlayedWorkload workload) =>
        $"--- {workload.Container}:\n{PodmanEnvironment.Podman($"logs --tail 25 {workload.Container}").Output}";

    private HttpClient Backend(string code, string token)
    {
        var backend = _conversion!.Workload(code, "backend");
        var http = new HttpClient { BaseAddress = new Uri($"http://{backend.Address}:{backend.ProbePort}"), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private async Task<HttpStatusCode> WhoAmIAsync(string code, string token)
    {
        using var http = Backend(code, token);
        using var response = await http.GetAsync("/api/auth/whoami");
        return response.StatusCode;
    }

    /// <summary>The address this machine sends from on its default route: the pods reach the realm stand-in there.</summary>
    private static IPAddress PrimaryAddress()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(IPAddress.Parse("203.0.113.1"), 9); // TEST-NET-3: nothing is sent
        return ((IPEndPoint)socket.LocalEndPoint!).Address;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        try
        {
            foreach (var file in _played.AsEnumerable().Reverse())
            {
                PodmanEnvironment.Podman($"kube down {file}", TimeSpan.FromMinutes(2));
            }
            foreach (var workload in _conversion?.Workloads ?? [])
            {
                if (PodmanEnvironment.Podman($"pod exists {workload.Pod}").ExitCode == 0)
                {
                    PodmanEnvironment.Podman($"pod rm --force --time 2 {workload.Pod}");
                }
            }
            foreach (var volume in _conversion?.Volumes.Distinct() ?? [])
            {
                PodmanEnvironment.Podman($"volume rm --force {volume}");
            }
            if (_networkCreated)
            {
                PodmanEnvironment.Podman($"network rm --force {Network}");
            }
        }
        finally
        {
            await _realms.DisposeAsync();
            Directory.Delete(_work, recursive: true);
        }
    }
}
