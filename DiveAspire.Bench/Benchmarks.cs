using DiveAspire.Topology;

namespace DiveAspire.Bench;

/// <summary>The whole suite, in the order it runs. Every ratio is against a baseline measured in the same run.</summary>
public static class Benchmarks
{
    // Backend settings the AppHost forwards to every backend (benchmark-only switches; see README).
    private const string RevocationCheckOff = "Dive:Revocation:Check=off";
    private const string NoApiLimitHit = "Dive:RateLimits:api:Max=1000000000";
    private static string LimiterStore(string store) => $"Dive:RateLimits:Store={store}";

    public static async Task<int> RunAsync(bool quick)
    {
        var repoRoot = Path.GetDirectoryName(DiveTopology.FindInstancesDirectory(AppContext.BaseDirectory))!;
        var report = new Report(repoRoot, quick);

        Console.WriteLine("Redis pub/sub round trip (baseline for revocation propagation)");
        var pubSub = await PubSubBaseline.RoundTripsMsAsync(quick ? 300 : 2000);
        var pubSubP99 = Stats.Percentile(pubSub, 99);
        report.Add("raw Redis pub/sub round trip p50 / p99", $"{Report.F(Stats.Median(pubSub), 3)} / {Report.F(pubSubP99, 3)} ms");

        Console.WriteLine("Revocation propagation and throughput (hub + ROU)");
        var load = TimeSpan.FromSeconds(quick ? 3 : 10);
        var rounds = quick ? 1 : 3;
        var results = new Dictionary<string, List<double>>();
        void Record(string key, double value) => (results.TryGetValue(key, out var list) ? list : results[key] = []).Add(value);

        for (var round = 0; round < rounds; round++)
        {
            // Interleaved configurations, so drift on a shared machine hits each of them alike.
            foreach (var (name, settings) in new (string, string[])[]
            {
                ("check-on/redis", [NoApiLimitHit, LimiterStore("redis")]),
                ("check-off/redis", [NoApiLimitHit, LimiterStore("redis"), RevocationCheckOff]),
                ("check-on/no-limiter", [NoApiLimitHit, LimiterStore("off")]),
                ("check-on/memory", [NoApiLimitHit, LimiterStore("memory")]),
            })
            {
                await using var app = AppHostProcess.Start(repoRoot, ["ROU"], monitoring: false, settings);
                await app.WaitHealthyAsync(monitoring: false, TimeSpan.FromMinutes(3));
                if (name == "check-on/redis" && round == 0)
                {
                    var propagation = await HttpBenchmarks.PropagationMsAsync(app, quick ? 200 : 1000);
                    var p99 = Stats.Percentile(propagation, 99);
                    report.Add($"revocation propagation USA logout ack -> ROU rejects, p50 / p99 (n={propagation.Count})",
                        $"{Report.F(Stats.Median(propagation), 3)} / {Report.F(p99, 3)} ms", $"pub/sub p99 {Report.F(pubSubP99, 3)} ms",
                        Report.F(p99 / pubSubP99), "p99 <= 5 ms and <= 3x pub/sub p99", p99 <= 5 && p99 <= 3 * pubSubP99);
                }
                Record(name, await HttpBenchmarks.ThroughputAsync(app, "rou", "/api/resources", load));
            }
        }

        double Median(string key) => Stats.Median(results[key]);
        var on = Median("check-on/redis");
        var off = Median("check-off/redis");
        report.Add($"GET /api/resources on ROU, revocation check on vs off (median of {rounds})", $"{Report.F(on, 0)} req/s",
            $"{Report.F(off, 0)} req/s", Report.F(on / off), ">= 0.95", on / off >= 0.95);
        var none = Median("check-on/no-limiter");
        report.Add($"rate-limited GET /api/resources, Redis limiter vs no limiter (median of {rounds})", $"{Report.F(on, 0)} req/s",
            $"{Report.F(none, 0)} req/s", Report.F(on / none), ">= 0.70", on / none >= 0.70);
        var memory = Median("check-on/memory");
        report.Add($"rate-limited GET /api/resources, Redis limiter vs in-memory limiter (median of {rounds})", $"{Report.F(on, 0)} req/s",
            $"{Report.F(memory, 0)} req/s", Report.F(on / memory));

        Console.WriteLine("Start-up: dotnet run (warm build) to all resources healthy, with monitoring");
        var startups = new List<double>();
        ProcessMemory.Usage? smallMemory = null;
        for (var i = 0; i < (quick ? 1 : 3); i++)
        {
            await using var app = AppHostProcess.Start(repoRoot, ["ROU", "BEL", "DNK"], monitoring: true, []);
            startups.Add(await app.WaitHealthyAsync(monitoring: true, TimeSpan.FromMinutes(3)));
            await Task.Delay(TimeSpan.FromSeconds(3)); // let start-up allocations settle before measuring memory
            smallMemory = app.Memory();
        }
        var smallSeconds = Stats.Median(startups);
        report.Add($"start-up hub + 3 spokes (median of {startups.Count})", $"{Report.F(smallSeconds, 1)} s", target: "<= 20 s", met: smallSeconds <= 20);
        report.Add("whole app memory, hub + 3 spokes",
            $"RSS {Report.F(smallMemory!.RssMb, 0)} MB ({Report.F(smallMemory.RssMb / 3, 0)} MB per spoke), PSS {Report.F(smallMemory.PssMb, 0)} MB, {smallMemory.Processes} processes");

        if (!quick)
        {
            var nato = NatoCatalog.All.Where(c => c.Membership == Membership.Nato && c.Code != NatoCatalog.HubCode).Select(c => c.Code).ToList();
            await using var app = AppHostProcess.Start(repoRoot, nato, monitoring: true, []);
            var seconds = await app.WaitHealthyAsync(monitoring: true, TimeSpan.FromMinutes(6));
            await Task.Delay(TimeSpan.FromSeconds(3));
            var memory31 = app.Memory();
            report.Add("start-up hub + 31 NATO spokes", $"{Report.F(seconds, 1)} s", target: "<= 120 s", met: seconds <= 120);
            var perSpoke = memory31.RssMb / nato.Count;
            report.Add("whole app memory, hub + 31 spokes",
                $"RSS {Report.F(memory31.RssMb, 0)} MB ({Report.F(perSpoke, 0)} MB per spoke), PSS {Report.F(memory31.PssMb, 0)} MB ({Report.F(memory31.PssMb / nato.Count, 0)} MB per spoke), {memory31.Processes} processes",
                target: "<= 250 MB RSS per spoke", met: perSpoke <= 250);
        }

        report.Note("RSS sums every process of the app (AppHost, DCP, dashboard, Redis, backends, monitoring) and counts shared pages once per process; PSS shares them out and is the fairer total.");
        Console.WriteLine($"Wrote {report.Write()}");
        return 0;
    }
}
