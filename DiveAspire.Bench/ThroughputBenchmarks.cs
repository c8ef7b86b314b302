using System.Net;
using System.Net.Http.Json;
using DiveAspire.Cli.Tokens;
using DiveAspire.Topology;

namespace DiveAspire.Bench;

/// <summary>
/// HTTP throughput with wrk (-t2 -c32) against the running app: one spoke per configuration, all started together, so
/// every configuration is compared with the reference (ROU: everything on) on the same machine at the same time.
/// </summary>
public static class ThroughputBenchmarks
{
    /// <summary>One spoke's configuration: benchmark-only backend switches (Dive:Backends:&lt;code&gt;:...) and AppHost switches.</summary>
    public sealed record Configuration(string Code, string Name, string[] BackendSettings, string[] AppHostSettings);

    public const string Reference = "ROU";
    private const string HealthCode = "USA";

    public static readonly Configuration[] Configurations =
    [
        new(Reference, "full path: JWT + revocation check + Redis limiter + ACP-240", ["RateLimits:Store=redis"], []),
        new("BEL", "revocation check off", ["RateLimits:Store=redis", "Revocation:Check=off"], []),
        new("EST", "in-memory limiter", ["RateLimits:Store=memory"], []),
        new("DNK", "no limiter", ["RateLimits:Store=off"], []),
        new("LVA", "behind the orchestrator's proxy (Dive:Proxied:lva=true)", ["RateLimits:Store=redis"], ["Dive:Proxied:lva=true"]),
        new("LTU", "catalog read from Redis on every request (Catalog:Cache=off)", ["RateLimits:Store=redis", "Catalog:Cache=off"], []),
        new("HRV", "token validated on every request (Auth:PrincipalCache=off)", ["RateLimits:Store=redis", "Auth:PrincipalCache=off"], []),
        new("SVN", "server GC (Dive:Gc:svn=server)", ["RateLimits:Store=redis"], ["Dive:Gc:svn=server"]),
        new("SVK", "no telemetry export (Dive:Otlp:svk=false)", ["RateLimits:Store=redis"], ["Dive:Otlp:svk=false"]),
        new("HUN", "every request traced (Telemetry:MaxTracesPerSecond=0)", ["RateLimits:Store=redis", "Telemetry:MaxTracesPerSecond=0"], []),
        new("POL", "response body written per request (Catalog:Cache=parsed)", ["RateLimits:Store=redis", "Catalog:Cache=parsed"], []),
        new("CZE", "catalog read after the limiter's script (Catalog:Prefetch=off)", ["RateLimits:Store=redis", "Catalog:Prefetch=off"], []),
    ];

    /// <summary>Uploads in each measured catalog, so the catalog read has something to read (the seed alone lives in memory).</summary>
    public const int Uploads = 20;

    private const string NoApiLimitHit = "Dive:RateLimits:api:Max=1000000000";

    public static IEnumerable<string> AppHostArguments(IEnumerable<Configuration> configurations) =>
        configurations.SelectMany(c => c.BackendSettings.Select(s => $"Dive:Backends:{c.Code.ToLowerInvariant()}:{s}").Concat(c.AppHostSettings))
            .Append(NoApiLimitHit);

    /// <summary>One wrk target: a path on one spoke, on the URL users reach (the port plan's) or on the backend's own port.</summary>
    private sealed record Target(string Key, string Code, string Path, bool OwnPort, bool WithToken);

    private sealed record Sample(Wrk.Result Wrk, double CpuUsPerRequest, double RssMb);

    public static async Task RunAsync(AppHostProcess app, Report report, bool quick, IReadOnlyList<Configuration> configurations)
    {
        var token = DevTokenMinter.Mint(new DevTokenMinter.Request(NatoCatalog.Hub, $"load-{Guid.NewGuid():N}", Jti: Guid.NewGuid().ToString(), Ttl: TimeSpan.FromMinutes(30)), app.SigningKey);
        var backends = configurations.ToDictionary(c => c.Code, c => BackendProcess.Find(app, c.Code));
        foreach (var code in backends.Keys)
        {
            await UploadAsync(code, token);
        }
        // /health/live on the hub (every lever on too): on ROU, its heavy run always came right before ROU's full-path
        // run (the rotation keeps the order) and ROU measured slowest of all spokes whatever its configuration.
        backends[HealthCode] = BackendProcess.Find(app, HealthCode);

        var targets = new List<Target> { new("health", HealthCode, "/health/live", OwnPort: false, WithToken: false) };
        targets.AddRange(configurations.Select(c => new Target($"full {c.Code}", c.Code, "/api/resources", OwnPort: false, WithToken: true)));
        // The URL users reach vs the backend's own port, where they differ (a proxied backend).
        foreach (var c in configurations.Where(c => Proxied(backends[c.Code])))
        {
            targets.Add(new($"health {c.Code}", c.Code, "/health/live", OwnPort: false, WithToken: false));
            targets.Add(new($"health {c.Code} own", c.Code, "/health/live", OwnPort: true, WithToken: false));
            targets.Add(new($"full {c.Code} own", c.Code, "/api/resources", OwnPort: true, WithToken: true));
        }

        var load = TimeSpan.FromSeconds(quick ? 2 : 10);
        var rounds = quick ? 1 : 3;
        // Warm-up (JIT, connections, this token): each target once in full mode, each backend's full path in quick mode.
        var warmUps = quick ? targets.Where(t => t.Key.StartsWith("full", StringComparison.Ordinal) && !t.OwnPort).ToList() : targets;
        Console.WriteLine($"  wrk -t{Wrk.Threads} -c{Wrk.Connections}, {targets.Count} targets, {rounds} round(s) of {load.TotalSeconds:F0} s each after {warmUps.Count} warm-up runs of 1 s");
        foreach (var target in warmUps)
        {
            await MeasureAsync(target, backends[target.Code], token, TimeSpan.FromSeconds(1));
        }
        var samples = targets.ToDictionary(t => t.Key, _ => new List<Sample>());
        for (var round = 0; round < rounds; round++)
        {
            // Interleaved and rotated, so drift on a shared machine hits each target alike.
            for (var i = 0; i < targets.Count; i++)
            {
                var target = targets[(round + i) % targets.Count];
                samples[target.Key].Add(await MeasureAsync(target, backends[target.Code], token, load));
            }
        }

        if (System.Environment.GetEnvironmentVariable("DIVE_BENCH_TRACE") is { Length: > 0 } traceDirectory)
        {
            await TraceAsync(backends[Reference], token, traceDirectory);
        }

        Summary Of(string key) => new(samples[key]);
        var reference = Of($"full {Reference}");
        var health = Of("health");
        var hub = backends[HealthCode];
        var userUrl = Proxied(hub) ? $"{AppHostProcess.BackendUri(HealthCode)} (orchestrator proxy)" : $"{AppHostProcess.BackendUri(HealthCode)} (the backend's own port: no proxy)";
        report.Add($"{HealthCode} GET /health/live on {userUrl}, median of {rounds}", health.Text);
        report.Add($"ROU GET /api/resources with a token ({configurations[0].Name}) on the URL users reach, median of {rounds}", reference.Text,
            target: ">= 13000 req/s", met: reference.Rps >= 13000);
        foreach (var c in configurations.Skip(1))
        {
            var other = Of($"full {c.Code}");
            var (measure, target, met) = c.Code switch
            {
                // The check's cost: the reference against the same path without it.
                "BEL" => ($"full path, revocation check on (ROU) vs off (BEL)", "on/off >= 0.95", reference.Rps / other.Rps >= 0.95),
                _ => ($"full path, {c.Code}: {c.Name}, vs ROU", "-", (bool?)null),
            };
            var value = c.Code == "BEL" ? reference.Text : other.Text;
            var baseline = c.Code == "BEL" ? other.Text : reference.Text;
            var ratio = c.Code == "BEL" ? reference.Rps / other.Rps : other.Rps / reference.Rps;
            report.Add(measure, value, baseline, Report.F(ratio), target, met);
        }
        foreach (var c in configurations.Where(c => Proxied(backends[c.Code])))
        {
            var proxied = Of($"health {c.Code}");
            var own = Of($"health {c.Code} own");
            report.Add($"{c.Code} GET /health/live, orchestrator proxy ({AppHostProcess.BackendUri(c.Code)}) vs the backend's own port ({backends[c.Code].OwnUri})",
                proxied.Text, own.Text, Report.F(proxied.Rps / own.Rps));
            var fullProxied = Of($"full {c.Code}");
            var fullOwn = Of($"full {c.Code} own");
            report.Add($"{c.Code} full path, orchestrator proxy vs the backend's own port", fullProxied.Text, fullOwn.Text, Report.F(fullProxied.Rps / fullOwn.Rps));
        }
        var rss = samples.Where(s => s.Key.StartsWith("full", StringComparison.Ordinal)).SelectMany(s => s.Value).Max(s => s.RssMb);
        report.Add("largest backend RSS right after a wrk run (any configuration)", $"{Report.F(rss, 0)} MB", target: "< 120 MB", met: rss < 120);
        report.Note($"Throughput: wrk -t{Wrk.Threads} -c{Wrk.Connections} --latency, {load.TotalSeconds:F0} s per run, {rounds} round(s) interleaved with rotating order, " +
            "medians; each value is req/s, p50 / p99 latency, the backend's CPU time per request (utime + stime from /proc/<pid>/stat before and after the run, " +
            "10 ms resolution; wrk itself, Redis and the proxy use the same 2 cores and are not counted) and the backend's largest RSS right after a run. " +
            "Every spoke runs one configuration, all started " +
            $"together; ROU has every lever on. Each catalog holds {Uploads} uploads besides its seed. The api limit is raised so no request is refused; " +
            "a run with any non-2xx response or socket error fails the bench (a response slower than 10 s is a wrk timeout, printed as a warning). The machine may be shared: compare ratios, not absolute numbers.");
    }

    /// <summary>
    /// DIVE_BENCH_TRACE=dir: after the measured runs, one more wrk run on ROU's full path under dotnet-trace's stack
    /// sampling (dotnet tool dotnet-trace 10), written to dir/rou.nettrace; read it with `dotnet-trace report FILE topN`.
    /// </summary>
    private static async Task TraceAsync(BackendProcess backend, string token, string directory)
    {
        Directory.CreateDirectory(directory);
        var output = Path.Combine(Path.GetFullPath(directory), "rou.nettrace");
        var tool = Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-trace");
        using var trace = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(File.Exists(tool) ? tool : "dotnet-trace",
            ["collect", "-p", backend.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--profile", "dotnet-common,dotnet-sampled-thread-time", "--duration", "00:00:00:12", "-o", output])
        { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false })
            ?? throw new InvalidOperationException("dotnet-trace did not start");
        _ = trace.StandardOutput.ReadToEndAsync();
        _ = trace.StandardError.ReadToEndAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var result = await Wrk.RunAsync(new Uri(AppHostProcess.BackendUri(backend.Code), "/api/resources"), token, TimeSpan.FromSeconds(10));
        await trace.WaitForExitAsync();
        if (!File.Exists(output))
        {
            throw new InvalidOperationException($"dotnet-trace wrote no trace (exit code {trace.ExitCode}); is it dotnet-trace 10 (dotnet tool install -g dotnet-trace)?");
        }
        Console.WriteLine($"  traced ROU's full path ({Report.F(result.RequestsPerSecond, 0)} req/s under the profiler): {output}");
    }

    private static bool Proxied(BackendProcess backend) => backend.OwnUri.Port != AppHostProcess.BackendUri(backend.Code).Port;

    private static async Task<Sample> MeasureAsync(Target target, BackendProcess backend, string token, TimeSpan duration)
    {
        var url = new Uri(target.OwnPort ? backend.OwnUri : AppHostProcess.BackendUri(target.Code), target.Path);
        var cpuBefore = backend.CpuMicroseconds();
        var result = await Wrk.RunAsync(url, target.WithToken ? token : null, duration);
        var cpu = backend.CpuMicroseconds() - cpuBefore;
        if (result.Non2xx > 0 || result.SocketErrors > 0)
        {
            throw new InvalidOperationException($"wrk {url}: {result.Non2xx} non-2xx responses, {result.SocketErrors} socket errors of {result.Requests} requests");
        }
        if (result.Timeouts > 0)
        {
            Console.WriteLine($"  warning: wrk {url}: {result.Timeouts} of {result.Requests} requests got no response within {Wrk.Timeout.TotalSeconds:F0} s (an overloaded machine?)");
        }
        return new Sample(result, result.Requests == 0 ? double.NaN : cpu / result.Requests, backend.RssMb());
    }

    private sealed class Summary(List<Sample> samples)
    {
        public double Rps { get; } = Stats.Median([.. samples.Select(s => s.Wrk.RequestsPerSecond)]);

        public string Text =>
            $"{Report.F(Rps, 0)} req/s, p50 / p99 {Report.F(Stats.Median([.. samples.Select(s => s.Wrk.P50Ms)]), 2)} / {Report.F(Stats.Median([.. samples.Select(s => s.Wrk.P99Ms)]), 2)} ms, " +
            $"{Report.F(Stats.Median([.. samples.Select(s => s.CpuUsPerRequest)]), 0)} us CPU/req, RSS {Report.F(samples.Max(s => s.RssMb), 0)} MB";
    }

    /// <summary>A few unclassified documents releasable to the whole federation, as a user would upload them.</summary>
    private static async Task UploadAsync(string code, string token)
    {
        using var http = new HttpClient { BaseAddress = AppHostProcess.BackendUri(code), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        for (var i = 1; i <= Uploads; i++)
        {
            using var response = await http.PostAsJsonAsync("/api/upload", new
            {
                resourceId = $"{code}-BENCH-{i:D3}",
                title = $"Benchmark document {i}",
                classification = "UNCLASSIFIED",
                releasabilityTo = new[] { "USA", "ROU", "BEL", "EST", "DNK", "LVA", "LTU", "HRV", "SVN", "SVK" },
                coi = Array.Empty<string>(),
            });
            if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Created))
            {
                throw new InvalidOperationException($"upload to {code} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }
    }
}
