using DiveAspire.Topology;

namespace DiveAspire.Bench;

/// <summary>The whole suite, in the order it runs. Every ratio is against a baseline measured in the same run.</summary>
public static class Benchmarks
{
    // One app runs every configuration side by side: each spoke's backend gets its own benchmark-only switches
    // (forwarded as Dive:Backends:<code>:...), so configurations are compared on the same machine at the same time.
    private static readonly (string Code, string Name, string[] Settings)[] Configurations =
    [
        ("ROU", "check on, Redis limiter", ["RateLimits:Store=redis"]),
        ("BEL", "check off, Redis limiter", ["RateLimits:Store=redis", "Revocation:Check=off"]),
        ("DNK", "check on, no limiter", ["RateLimits:Store=off"]),
        ("EST", "check on, in-memory limiter", ["RateLimits:Store=memory"]),
    ];
    private const string NoApiLimitHit = "Dive:RateLimits:api:Max=1000000000";

    public static async Task<int> RunAsync(bool quick, bool startupOnly, bool failoverOnly = false)
    {
        var repoRoot = Path.GetDirectoryName(DiveTopology.FindInstancesDirectory(AppContext.BaseDirectory))!;
        var report = new Report(repoRoot, quick);
        var total = System.Diagnostics.Stopwatch.StartNew();
        if (failoverOnly)
        {
            await Timed(() => FailoverDrills.RunAsync(repoRoot, report, quick));
            return 0;
        }
        if (!startupOnly)
        {
            await Timed(() => { RevocationCheck(report, quick); return Task.CompletedTask; });
            await Timed(() => MessagingAndThroughputAsync(repoRoot, report, quick));
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

    private static async Task MessagingAndThroughputAsync(string repoRoot, Report report, bool quick)
    {
        Console.WriteLine("Revocation propagation and throughput (hub + ROU, BEL, DNK, EST: one configuration per spoke)");
        var settings = Configurations.SelectMany(c => c.Settings.Select(s => $"Dive:Backends:{c.Code.ToLowerInvariant()}:{s}")).Append(NoApiLimitHit);
        await using var app = AppHostProcess.Start(repoRoot, [.. Configurations.Select(c => c.Code)], monitoring: false, settings);
        await app.WaitHealthyAsync(monitoring: false, TimeSpan.FromMinutes(3));

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

        var load = TimeSpan.FromSeconds(quick ? 3 : 10);
        var rounds = quick ? 2 : 5;
        var results = Configurations.ToDictionary(c => c.Name, _ => new List<double>());
        // A discarded round first: ROU has just served the propagation samples, so without it ROU alone would be
        // measured with warm (tier-1 JIT) code.
        foreach (var (code, _, _) in Configurations)
        {
            await HttpBenchmarks.ThroughputAsync(app, code, "/api/resources", quick ? TimeSpan.FromSeconds(1) : load);
        }
        for (var round = 0; round < rounds; round++)
        {
            // Interleaved, so drift on a shared machine hits each configuration alike.
            // ... and the order rotates, so no configuration always runs first or right after another.
            for (var i = 0; i < Configurations.Length; i++)
            {
                var (code, name, _) = Configurations[(round + i) % Configurations.Length];
                results[name].Add(await HttpBenchmarks.ThroughputAsync(app, code, "/api/resources", load));
            }
        }

        double Median(int configuration) => Stats.Median(results[Configurations[configuration].Name]);
        var on = Median(0);
        var off = Median(1);
        report.Add($"GET /api/resources, revocation check on (ROU) vs off (BEL) (median of {rounds})", $"{Report.F(on, 0)} req/s",
            $"{Report.F(off, 0)} req/s", Report.F(on / off), ">= 0.95", on / off >= 0.95);
        var none = Median(2);
        report.Add($"rate-limited GET /api/resources, Redis limiter (ROU) vs no limiter (DNK) (median of {rounds})", $"{Report.F(on, 0)} req/s",
            $"{Report.F(none, 0)} req/s", Report.F(on / none), ">= 0.70", on / none >= 0.70);
        var memory = Median(3);
        report.Add($"rate-limited GET /api/resources, Redis limiter (ROU) vs in-memory limiter (EST) (median of {rounds})", $"{Report.F(on, 0)} req/s",
            $"{Report.F(memory, 0)} req/s", Report.F(on / memory));
    }

    private static async Task StartupAsync(string repoRoot, Report report, bool quick)
    {
        Console.WriteLine("Start-up: dotnet run (warm build) to all resources healthy, with monitoring");
        // Baseline in the same run: the backends launched as Aspire projects (`dotnet run` per backend), interleaved.
        var launches = new (string Name, string[] Settings)[] { ("executable", []), ("project", ["Dive:BackendLaunch=project"]) };
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
        var projectSeconds = Stats.Median(startups["project"]);
        report.Add($"start-up hub + 3 spokes (median of {startups["executable"].Count})", $"{Report.F(seconds, 1)} s",
            $"{Report.F(projectSeconds, 1)} s with backends as projects", Report.F(seconds / projectSeconds), "<= 20 s", seconds <= 20);
        var small = memory["executable"];
        var smallProject = memory["project"];
        report.Add("whole app memory, hub + 3 spokes",
            $"RSS {Report.F(small.RssMb, 0)} MB ({Report.F(small.RssMb / 3, 0)} MB per spoke), PSS {Report.F(small.PssMb, 0)} MB, {small.Processes} processes",
            $"RSS {Report.F(smallProject.RssMb, 0)} MB, PSS {Report.F(smallProject.PssMb, 0)} MB, {smallProject.Processes} processes with backends as projects",
            Report.F(small.RssMb / smallProject.RssMb));
        report.Note("RSS by program, hub + 3 spokes: " + ByProgram(small));

        if (!quick)
        {
            var nato = NatoCatalog.All.Where(c => c.Membership == Membership.Nato && c.Code != NatoCatalog.HubCode).Select(c => c.Code).ToList();
            await using var app = AppHostProcess.Start(repoRoot, nato, monitoring: true, []);
            var seconds31 = await app.WaitHealthyAsync(monitoring: true, TimeSpan.FromMinutes(6));
            await Task.Delay(TimeSpan.FromSeconds(3));
            var memory31 = app.Memory();
            report.Add("start-up hub + 31 NATO spokes", $"{Report.F(seconds31, 1)} s", target: "<= 120 s", met: seconds31 <= 120);
            var perSpoke = memory31.RssMb / nato.Count;
            report.Add("whole app memory, hub + 31 spokes",
                $"RSS {Report.F(memory31.RssMb, 0)} MB ({Report.F(perSpoke, 0)} MB per spoke), PSS {Report.F(memory31.PssMb, 0)} MB ({Report.F(memory31.PssMb / nato.Count, 0)} MB per spoke), {memory31.Processes} processes",
                target: "<= 250 MB RSS per spoke", met: perSpoke <= 250);
            report.Note("RSS by program, hub + 31 spokes: " + ByProgram(memory31));
        }
    }

    private static string ByProgram(ProcessMemory.Usage usage) =>
        string.Join("; ", usage.Groups.Take(8).Select(g =>
            $"{g.Program} x{g.Processes}: RSS {Report.F(g.RssMb, 0)} MB ({Report.F(g.RssMb / g.Processes, 0)} each), PSS {Report.F(g.PssMb, 0)} MB"));
}
