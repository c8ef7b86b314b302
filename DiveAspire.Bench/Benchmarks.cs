using DiveAspire.Topology;

namespace DiveAspire.Bench;

/// <summary>The whole suite, in the order it runs. Every ratio is against a baseline measured in the same run.</summary>
public static class Benchmarks
{
    public static async Task<int> RunAsync(bool quick, bool startupOnly, bool throughputOnly = false, bool failoverOnly = false, bool memoryOnly = false, bool scaleOnly = false)
    {
        var repoRoot = Path.GetDirectoryName(DiveTopology.FindInstancesDirectory(AppContext.BaseDirectory))!;
        var report = new Report(repoRoot, quick);
        var total = System.Diagnostics.Stopwatch.StartNew();
        if (failoverOnly)
        {
            await Timed(() => FailoverDrills.RunAsync(repoRoot, report, quick));
            Console.WriteLine($"(all: {total.Elapsed.TotalSeconds:F0} s)");
            return 0;
        }
        if (memoryOnly)
        {
            await Timed(() => MemoryBenchmarks.RunAsync(repoRoot, report, quick));
            Console.WriteLine($"(all: {total.Elapsed.TotalSeconds:F0} s)");
            return 0;
        }
        if (scaleOnly)
        {
            await Timed(() => ScaleAsync(repoRoot, report));
            Console.WriteLine($"(all: {total.Elapsed.TotalSeconds:F0} s)");
            return 0;
        }
        if (throughputOnly)
        {
            await Timed(() => HeadlineAsync(repoRoot, report, quick, propagation: false));
            await HeadlineAotAsync(repoRoot, report, quick);
            await Timed(() => LeversAsync(repoRoot, report, quick));
            Console.WriteLine($"(all: {total.Elapsed.TotalSeconds:F0} s)");
            return 0;
        }
        if (!startupOnly)
        {
            await Timed(() => { RevocationCheck(report, quick); return Task.CompletedTask; });
            await Timed(() => HeadlineAsync(repoRoot, report, quick, propagation: true));
            await HeadlineAotAsync(repoRoot, report, quick);
            await Timed(() => LeversAsync(repoRoot, report, quick));
            await Timed(() => FailoverDrills.RunAsync(repoRoot, report, quick));
        }
        await Timed(() => StartupAsync(repoRoot, report, quick));
        Console.WriteLine($"(all: {total.Elapsed.TotalSeconds:F0} s)");

        report.Note("RSS sums every process of the app (AppHost, DCP, dashboard, Redis, backends, monitoring) and counts shared pages once per process; PSS shares them out and is the fairer total.");
        if (!startupOnly)
        {
            Console.WriteLine($"Wrote {report.Write()}");
        }
        return 0;
    }

    /// <summary>Each part says how long it took: --quick must stay under 3 minutes in CI.</summary>
    private static async Task Timed(Func<Task> part)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await part();
        Console.WriteLine($"  ({watch.Elapsed.TotalSeconds:F0} s)");
    }

    private static void RevocationCheck(Report report, bool quick)
    {
        Console.WriteLine("Revocation check per request (BenchmarkDotNet, in process)");
        var results = MicroBenchmarks.RevocationCheck(quick);
        var (full, empty) = (results[nameof(RevocationCheckBenchmarks.FullCache)], results[nameof(RevocationCheckBenchmarks.EmptyCache)]);
        report.Add($"revocation check of one request, cache of {RevocationCheckBenchmarks.RevokedTokens:N0} tokens + {RevocationCheckBenchmarks.RevokedUsers:N0} users vs empty cache",
            $"{Report.F(full.MedianNs, 1)} ns, {full.AllocatedBytes} B allocated", $"{Report.F(empty.MedianNs, 1)} ns, {empty.AllocatedBytes} B", Report.F(full.MedianNs / empty.MedianNs));
    }

    /// <summary>The app the issue measured (hub + ROU only): the headline throughput and latency, then propagation.</summary>
    private static async Task HeadlineAsync(string repoRoot, Report report, bool quick, bool propagation, bool aot = false)
    {
        Console.WriteLine($"{(propagation ? "Revocation propagation and headline" : "Headline")} throughput (hub + {HeadlineBenchmarks.Code} only{(aot ? ", Native AOT backends" : "")})");
        await using var app = AppHostProcess.Start(repoRoot, [HeadlineBenchmarks.Code], monitoring: false, HeadlineBenchmarks.AppHostArguments(aot));
        await app.WaitHealthyAsync(monitoring: false, TimeSpan.FromMinutes(3));
        // The headline first, on a fresh app as a user would measure it; propagation then runs on the app idle again.
        await HeadlineBenchmarks.RunAsync(repoRoot, app, report, quick, aot);
        if (propagation)
        {
            await PropagationAsync(app, report, quick);
        }
    }

    /// <summary>
    /// The same headline with Native AOT backends (what a deployment publishes: about 60 MB less mapped runtime per
    /// backend, the memory target's lever). Not in quick mode: it needs the AOT publish (minutes the first time).
    /// </summary>
    private static async Task HeadlineAotAsync(string repoRoot, Report report, bool quick)
    {
        if (!quick)
        {
            await Timed(() => HeadlineAsync(repoRoot, report, quick, propagation: false, aot: true));
        }
    }

    private static async Task PropagationAsync(AppHostProcess app, Report report, bool quick)
    {
        var pause = TimeSpan.FromMilliseconds(50);
        HttpBenchmarks.Propagation propagation;
        await using (var pubSubBaseline = await PubSubBaseline.StartAsync())
        {
            propagation = await HttpBenchmarks.PropagationAsync(app, pubSubBaseline, quick ? 200 : 1000, pause);
        }
        var pubSubP99 = Stats.Percentile(propagation.PubSubMs, 99);
        report.Add("raw Redis pub/sub round trip (bench process, own redis-server, one right before each revocation) p50 / p99",
            $"{Report.F(Stats.Median(propagation.PubSubMs), 3)} / {Report.F(pubSubP99, 3)} ms");
        var p99 = Stats.Percentile(propagation.Ms, 99);
        report.Add($"revocation propagation, USA logout ack -> ROU rejects (ROU's cache holds it), p50 / p99 (n={propagation.Ms.Count})",
            $"{Report.F(Stats.Median(propagation.Ms), 3)} / {Report.F(p99, 3)} ms", $"pub/sub p99 {Report.F(pubSubP99, 3)} ms",
            Report.F(p99 / pubSubP99), "p99 <= 5 ms and <= 3x pub/sub p99", p99 <= 5 && p99 <= 3 * pubSubP99);
        report.Add("USA revokedAt (before its durable write, appendfsync always) -> ROU's cache holds it, p50 / p99",
            $"{Report.F(Stats.Median(propagation.FromRevokedAtMs), 3)} / {Report.F(Stats.Percentile(propagation.FromRevokedAtMs, 99), 3)} ms");
        report.Add("USA revokedAt -> the client has USA's acknowledgement (durable write and HTTP response), p50 / p99",
            $"{Report.F(Stats.Median(propagation.AcknowledgeMs), 3)} / {Report.F(Stats.Percentile(propagation.AcknowledgeMs, 99), 3)} ms");
        report.Add("USA logout ack -> a client's request gets ROU's 401 (includes that HTTP request), p50 / p99",
            $"{Report.F(Stats.Median(propagation.ClientMs), 3)} / {Report.F(Stats.Percentile(propagation.ClientMs, 99), 3)} ms");
        report.Add("one accepted request to ROU (the floor of a client sample), p50 / p99",
            $"{Report.F(Stats.Median(propagation.RequestMs), 3)} / {Report.F(Stats.Percentile(propagation.RequestMs, 99), 3)} ms");
        report.Note($"Requests to ROU until it answered 401, per revocation: median {Report.F(Stats.Median(propagation.Requests), 0)}, " +
            $"p99 {Report.F(Stats.Percentile(propagation.Requests, 99), 0)}, max {Report.F(propagation.Requests.Max(), 0)} (1 = the revocation had arrived before the first request).");
        report.Note($"Propagation is timed without a probe request: from the moment the bench had USA's acknowledgement to the moment ROU's " +
            "cache held the revocation (GET /api/auth/check-blacklist/{jti} reports it as rejectedHereSince); the bench and ROU read the same host clock. " +
            $"ROU already held it when the acknowledgement arrived in {propagation.HeldBeforeAck} of {propagation.Ms.Count} revocations (counted as 0). " +
            $"One revocation every {pause.TotalMilliseconds:F0} ms or more (plus the requests of each sample), the app otherwise idle. " +
            "Every sample is also confirmed by a client request that ROU answered 401.");
    }

    /// <summary>The levers, one spoke per configuration in one app (quick: the reference, the check off and the proxy).</summary>
    private static async Task LeversAsync(string repoRoot, Report report, bool quick)
    {
        var configurations = ThroughputBenchmarks.For(quick);
        Console.WriteLine($"Levers (hub + {string.Join(", ", configurations.Select(c => c.Code))}: one configuration per spoke)");
        await using var app = AppHostProcess.Start(repoRoot, [.. configurations.Select(c => c.Code)], monitoring: false, ThroughputBenchmarks.AppHostArguments(configurations));
        await app.WaitHealthyAsync(monitoring: false, TimeSpan.FromMinutes(3));
        await ThroughputBenchmarks.RunAsync(app, report, quick, configurations);
    }

    private static async Task StartupAsync(string repoRoot, Report report, bool quick)
    {
        Console.WriteLine("Start-up: dotnet run (warm build) to all resources healthy, with monitoring");
        // Baseline in the same run: the backends launched as Aspire projects (`dotnet run` per backend), interleaved.
        // Quick (CI) starts the executable launch only: the project launch is what replicas use, which the tests start.
        var launches = new (string Name, string[] Settings)[] { ("executable", []), ("project", ["Dive:BackendLaunch=project"]) }.Take(quick ? 1 : 2).ToArray();
        var startups = launches.ToDictionary(l => l.Name, _ => new List<double>());
        var memory = new Dictionary<string, ProcessMemory.Usage>();
        for (var i = 0; i < (quick ? 1 : 3); i++)
        {
            foreach (var (name, settings) in launches)
            {
                await using var app = AppHostProcess.Start(repoRoot, ["ROU", "BEL", "DNK"], monitoring: true, settings);
                startups[name].Add(await app.WaitHealthyAsync(monitoring: true, TimeSpan.FromMinutes(3)));
                await Task.Delay(TimeSpan.FromSeconds(3)); // let start-up allocations settle before measuring memory
                memory[name] = app.Memory();
            }
        }
        var seconds = Stats.Median(startups["executable"]);
        var small = memory["executable"];
        var smallText = $"RSS {Report.F(small.RssMb, 0)} MB ({Report.F(small.RssMb / 3, 0)} MB per spoke), PSS {Report.F(small.PssMb, 0)} MB, {small.Processes} processes";
        if (startups.TryGetValue("project", out var project))
        {
            var projectSeconds = Stats.Median(project);
            report.Add($"start-up hub + 3 spokes (median of {startups["executable"].Count})", $"{Report.F(seconds, 1)} s",
                $"{Report.F(projectSeconds, 1)} s with backends as projects", Report.F(seconds / projectSeconds), "<= 20 s", seconds <= 20);
            var smallProject = memory["project"];
            report.Add("whole app memory, hub + 3 spokes", smallText,
                $"RSS {Report.F(smallProject.RssMb, 0)} MB, PSS {Report.F(smallProject.PssMb, 0)} MB, {smallProject.Processes} processes with backends as projects",
                Report.F(small.RssMb / smallProject.RssMb));
        }
        else
        {
            report.Add($"start-up hub + 3 spokes (median of {startups["executable"].Count}; quick: no project-launch baseline)", $"{Report.F(seconds, 1)} s", target: "<= 20 s", met: seconds <= 20);
            report.Add("whole app memory, hub + 3 spokes", smallText);
        }
        report.Note("RSS by program, hub + 3 spokes: " + ByProgram(small));

        if (!quick)
        {
            await ScaleAsync(repoRoot, report);
        }
    }

    /// <summary>Hub + every spoke of the catalog, first with the JIT backend, then with the Native AOT one (./dive bench publishes it).</summary>
    private static async Task ScaleAsync(string repoRoot, Report report)
    {
        Console.WriteLine("Scale: hub + all 37 spokes, JIT backends then Native AOT backends, with monitoring");
        // Every spoke of the catalog: the 31 NATO members besides the hub and the 6 partners.
        var spokes = NatoCatalog.All.Where(c => c.Code != NatoCatalog.HubCode).Select(c => c.Code).ToList();
        var (seconds, memory) = await StartAllAsync(repoRoot, spokes, []);
        report.Add($"start-up hub + all {spokes.Count} spokes (partners included)", $"{Report.F(seconds, 1)} s", target: "<= 90 s", met: seconds <= 90);
        var perSpoke = memory.RssMb / spokes.Count;
        report.Add($"whole app memory, hub + {spokes.Count} spokes",
            $"RSS {Report.F(memory.RssMb, 0)} MB ({Report.F(perSpoke, 0)} MB per spoke), PSS {Report.F(memory.PssMb, 0)} MB ({Report.F(memory.PssMb / spokes.Count, 0)} MB per spoke), {memory.Processes} processes",
            target: "<= 150 MB RSS per spoke", met: perSpoke <= 150);
        report.Note($"RSS by program, hub + {spokes.Count} spokes: " + ByProgram(memory));

        var (secondsAot, memoryAot) = await StartAllAsync(repoRoot, spokes, ["Dive:Backend:Build=aot"]);
        report.Add($"start-up hub + all {spokes.Count} spokes, Native AOT backends", $"{Report.F(secondsAot, 1)} s", $"{Report.F(seconds, 1)} s JIT",
            Report.F(secondsAot / seconds), "<= 90 s", secondsAot <= 90);
        var perSpokeAot = memoryAot.RssMb / spokes.Count;
        report.Add($"whole app memory, hub + {spokes.Count} spokes, Native AOT backends",
            $"RSS {Report.F(memoryAot.RssMb, 0)} MB ({Report.F(perSpokeAot, 0)} MB per spoke), PSS {Report.F(memoryAot.PssMb, 0)} MB ({Report.F(memoryAot.PssMb / spokes.Count, 0)} MB per spoke), {memoryAot.Processes} processes",
            $"{Report.F(perSpoke, 0)} MB per spoke JIT", Report.F(perSpokeAot / perSpoke), "<= 150 MB RSS per spoke", perSpokeAot <= 150);
        report.Note($"RSS by program, hub + {spokes.Count} spokes, Native AOT backends: " + ByProgram(memoryAot));
    }

    private static async Task<(double Seconds, ProcessMemory.Usage Memory)> StartAllAsync(string repoRoot, List<string> spokes, string[] settings)
    {
        await using var app = AppHostProcess.Start(repoRoot, spokes, monitoring: true, settings);
        var seconds = await app.WaitHealthyAsync(monitoring: true, TimeSpan.FromMinutes(6));
        await Task.Delay(TimeSpan.FromSeconds(3));
        return (seconds, app.Memory());
    }

    private static string ByProgram(ProcessMemory.Usage usage) =>
        string.Join("; ", usage.Groups.Take(8).Select(g =>
            $"{g.Program} x{g.Processes}: RSS {Report.F(g.RssMb, 0)} MB ({Report.F(g.RssMb / g.Processes, 0)} each), PSS {Report.F(g.PssMb, 0)} MB"));
}
