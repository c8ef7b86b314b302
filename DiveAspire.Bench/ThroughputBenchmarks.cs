namespace DiveAspire.Bench;

/// <summary>
/// The levers, one by one: wrk (-t2 -c32) against one spoke per configuration, all started together, so every
/// configuration is compared with the reference (ROU: every lever on) on the same machine at the same time. POL runs the
/// reference's configuration too: how far POL is from ROU is what a spoke's place in the app alone makes.
/// </summary>
public static class ThroughputBenchmarks
{
    /// <summary>One spoke's configuration: benchmark-only backend switches (Dive:Backends:&lt;code&gt;:...) and AppHost switches.</summary>
    public sealed record Configuration(string Code, string Name, string[] BackendSettings, string[] AppHostSettings);

    public const string Reference = "ROU";
    public const string SecondReference = "POL";

    public static readonly Configuration[] Configurations =
    [
        new(Reference, "full path: JWT + revocation check + Redis limiter + ACP-240", ["RateLimits:Store=redis"], []),
        new(SecondReference, "second reference, every lever on like ROU", ["RateLimits:Store=redis"], []),
        new("BEL", "revocation check off", ["RateLimits:Store=redis", "Revocation:Check=off"], []),
        new("EST", "in-memory limiter", ["RateLimits:Store=memory"], []),
        new("DNK", "no limiter", ["RateLimits:Store=off"], []),
        new("LVA", "behind the orchestrator's proxy (Dive:Proxied:lva=true)", ["RateLimits:Store=redis"], ["Dive:Proxied:lva=true"]),
        new("LTU", "catalog read from Redis on every request (Catalog:Cache=off)", ["RateLimits:Store=redis", "Catalog:Cache=off"], []),
        new("HRV", "token validated on every request (Auth:PrincipalCache=off)", ["RateLimits:Store=redis", "Auth:PrincipalCache=off"], []),
        new("SVN", "server GC (Dive:Gc:svn=server)", ["RateLimits:Store=redis"], ["Dive:Gc:svn=server"]),
        new("SVK", "no telemetry export (Dive:Otlp:svk=false)", ["RateLimits:Store=redis"], ["Dive:Otlp:svk=false"]),
        new("HUN", "every request traced (Telemetry:MaxTracesPerSecond=0)", ["RateLimits:Store=redis", "Telemetry:MaxTracesPerSecond=0"], []),
        new("PRT", "response body written per request (Catalog:Cache=parsed)", ["RateLimits:Store=redis", "Catalog:Cache=parsed"], []),
        new("CZE", "catalog read after the limiter's script (Catalog:Prefetch=off)", ["RateLimits:Store=redis", "Catalog:Prefetch=off"], []),
        new("GRC", "Redis replies read on the client's dedicated threads (Redis:IoThreads=dedicated)", ["RateLimits:Store=redis", "Redis:IoThreads=dedicated"], []),
        new("NOR", "the runtime's own gen0 budget, not the AppHost's 32 MiB (Dive:DotnetEnv:nor:GCgen0size=0)", ["RateLimits:Store=redis"], ["Dive:DotnetEnv:nor:GCgen0size=0"]),
    ];

    /// <summary>Quick (CI): the reference, the check off (its target) and the proxy (the other URL); enough to catch a broken part.</summary>
    public static IReadOnlyList<Configuration> For(bool quick) =>
        quick ? [.. Configurations.Where(c => c.Code is Reference or "BEL" or "LVA")] : Configurations;

    public static IEnumerable<string> AppHostArguments(IEnumerable<Configuration> configurations) =>
        configurations.SelectMany(c => c.BackendSettings.Select(s => $"Dive:Backends:{c.Code.ToLowerInvariant()}:{s}").Concat(c.AppHostSettings))
            .Append(WrkRuns.NoApiLimitHit);

    public static async Task RunAsync(AppHostProcess app, Report report, bool quick, IReadOnlyList<Configuration> configurations)
    {
        var token = WrkRuns.MintToken(app);
        var backends = configurations.ToDictionary(c => c.Code, c => BackendProcess.Find(app, c.Code));
        await Task.WhenAll(backends.Keys.Select(code => WrkRuns.UploadAsync(code, token)));

        var targets = configurations.Select(c => new WrkRuns.Target($"full {c.Code}", c.Code, "/api/resources", OwnPort: false, WithToken: true)).ToList();
        // The URL users reach vs the backend's own port, where they differ (a proxied backend).
        foreach (var c in configurations.Where(c => WrkRuns.Proxied(backends[c.Code])))
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
        var samples = await WrkRuns.RoundsAsync(targets, warmUps, backends, token, rounds, load);

        if (System.Environment.GetEnvironmentVariable("DIVE_BENCH_TRACE") is { Length: > 0 } traceDirectory)
        {
            await TraceAsync(backends[Reference], token, traceDirectory);
        }

        WrkRuns.Summary Of(string key) => new(samples[key]);
        var reference = Of($"full {Reference}");
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
        foreach (var c in configurations.Where(c => WrkRuns.Proxied(backends[c.Code])))
        {
            var proxied = Of($"health {c.Code}");
            var own = Of($"health {c.Code} own");
            report.Add($"{c.Code} GET /health/live, orchestrator proxy ({AppHostProcess.BackendUri(c.Code)}) vs the backend's own port ({backends[c.Code].OwnUri})",
                proxied.Text, own.Text, Report.F(proxied.Rps / own.Rps));
            var fullProxied = Of($"full {c.Code}");
            var fullOwn = Of($"full {c.Code} own");
            report.Add($"{c.Code} full path, orchestrator proxy vs the backend's own port", fullProxied.Text, fullOwn.Text, Report.F(fullProxied.Rps / fullOwn.Rps));
        }
        report.Note($"Levers: wrk -t{Wrk.Threads} -c{Wrk.Connections} --latency, {load.TotalSeconds:F0} s per run, {rounds} round(s), the order shuffled anew each round, " +
            "medians; each value is req/s, p50 / p99 latency, the backend's CPU time per request (utime + stime from /proc/<pid>/stat before and after the run, " +
            "10 ms resolution; wrk itself, Redis and the proxy use the same 2 cores and are not counted) and the backend's largest RSS right after a run. " +
            $"An app with the hub and {configurations.Count} spokes, each one configuration, all started together; {Reference} and {SecondReference} have every lever on " +
            $"(their ratio is the noise floor of a spoke's place in the app). Each catalog holds {WrkRuns.Uploads} uploads besides its seed. The api limit is raised so no request is refused; " +
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
}
