using DiveAspire.Bench;
using DiveAspire.Topology;

// The benchmark reads /proc and runs Debian binaries.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// ./dive bench [--quick]: measures, prints, and writes docs/benchmarks.md. Numbers are reported, never asserted.
var quick = args.Contains("--quick");
var unknown = args.Where(a => a != "--quick").ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"dive bench: unknown option '{unknown[0]}' (valid: --quick)");
    return 2;
}

try
{
    return await RunAsync(quick);
}
catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException or TopologyException)
{
    Console.Error.WriteLine($"dive bench: {ex.Message}");
    return 1;
}

static async Task<int> RunAsync(bool quick)
{
    var repoRoot = Path.GetDirectoryName(DiveTopology.FindInstancesDirectory(AppContext.BaseDirectory))!;
    var report = new Report(repoRoot, quick);

    Console.WriteLine("Redis pub/sub round trip (baseline for revocation propagation)");
    var pubSub = await PubSubBaseline.RoundTripsMsAsync(quick ? 300 : 2000);
    report.Add("raw Redis pub/sub round trip p50 / p99", $"{Report.F(Stats.Median(pubSub), 3)} / {Report.F(Stats.Percentile(pubSub, 99), 3)} ms");

    Console.WriteLine("Start-up: dotnet run (warm build) to all resources healthy");
    var spokes3 = new[] { "ROU", "BEL", "DNK" };
    var runs = quick ? 1 : 3;
    var small = new List<StartupRun.Result>();
    for (var i = 0; i < runs; i++)
{
        small.Add(await new StartupRun(repoRoot, spokes3, monitoring: true, []).RunAsync(TimeSpan.FromMinutes(3)));
}
var smallSeconds = Stats.Median(small.Select(r => r.SecondsToHealthy).ToList());
report.Add($"start-up hub + 3 spokes (median of {runs})", $"{Report.F(smallSeconds, 1)} s", target: "<= 20 s", met: smallSeconds <= 20);
var smallMemory = small[^1].Memory;
report.Add("whole app memory, hub + 3 spokes", $"RSS {Report.F(smallMemory.RssMb, 0)} MB, PSS {Report.F(smallMemory.PssMb, 0)} MB in {smallMemory.Processes} processes");

if (!quick)
{
    var nato = NatoCatalog.All.Where(c => c.Membership == Membership.Nato && c.Code != NatoCatalog.HubCode).Select(c => c.Code).ToList();
    var large = await new StartupRun(repoRoot, nato, monitoring: true, []).RunAsync(TimeSpan.FromMinutes(6));
    report.Add("start-up hub + 31 NATO spokes", $"{Report.F(large.SecondsToHealthy, 1)} s", target: "<= 120 s", met: large.SecondsToHealthy <= 120);
    var perSpoke = large.Memory.RssMb / large.Spokes;
    report.Add("whole app memory, hub + 31 spokes",
        $"RSS {Report.F(large.Memory.RssMb, 0)} MB ({Report.F(perSpoke, 0)} MB per spoke), PSS {Report.F(large.Memory.PssMb, 0)} MB ({Report.F(large.Memory.PssMb / large.Spokes, 0)} MB per spoke)",
        target: "<= 250 MB RSS per spoke", met: perSpoke <= 250);
}

Console.WriteLine($"Wrote {report.Write()}");
return 0;
}
