using DiveAspire.Bench;
using DiveAspire.Topology;

// The benchmark reads /proc and runs Debian binaries.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// ./dive bench [--quick] [--startup]: measures, prints, and writes docs/benchmarks.md (whole suite only). Numbers are
// reported, never asserted. --startup measures only start-up and memory (for checking a change to the graph).
if (args is [FloorServer.Argument])
{
    return await FloorServer.ServeAsync();
}
if (args.Any(a => a is "-h" or "--help"))
{
    Console.WriteLine("usage: ./dive bench [--quick] [--startup | --throughput | --failover | --memory | --scale]");
    Console.WriteLine("  --quick       small samples, fewer lever configurations, one start-up each, 1 failover drill (what CI runs)");
    Console.WriteLine("  --startup     only start-up and memory, executable vs project launch; prints, does not write docs/benchmarks.md");
    Console.WriteLine("  --throughput  only HTTP throughput with wrk (headline on hub + ROU, JIT then Native AOT backends, then the levers); prints, does not write docs/benchmarks.md");
    Console.WriteLine("  --failover    only the failover drills of the HA revocation store (kill -9 of the primary); prints, does not write docs/benchmarks.md");
    Console.WriteLine("  --memory      only the backend memory settings (GC, JIT, telemetry), one spoke each, RSS idle and under wrk; prints, does not write docs/benchmarks.md");
    Console.WriteLine("  --scale       only the hub + all 37 spokes, started with JIT then with Native AOT backends: start-up and RSS per spoke; prints");
    return 0;
}
var quick = args.Contains("--quick");
var startupOnly = args.Contains("--startup");
var throughputOnly = args.Contains("--throughput");
var failoverOnly = args.Contains("--failover");
var memoryOnly = args.Contains("--memory");
var scaleOnly = args.Contains("--scale");
var unknown = args.Where(a => a is not ("--quick" or "--startup" or "--throughput" or "--failover" or "--memory" or "--scale")).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"dive bench: unknown option '{unknown[0]}' (valid: --quick, --startup, --throughput, --failover, --memory, --scale)");
    return 2;
}
if (new[] { startupOnly, throughputOnly, failoverOnly, memoryOnly, scaleOnly }.Count(on => on) > 1)
{
    Console.Error.WriteLine("dive bench: --startup, --throughput, --failover, --memory and --scale exclude each other");
    return 2;
}

var signals = StopOnSignal.Install();
try
{
    return await Benchmarks.RunAsync(quick, startupOnly, throughputOnly, failoverOnly, memoryOnly, scaleOnly);
}
catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException or HttpRequestException or TopologyException)
{
    Console.Error.WriteLine(StopOnSignal.Interrupted ? "dive bench: interrupted" : $"dive bench: {ex.Message}");
    return StopOnSignal.Interrupted ? 130 : 1;
}
finally
{
    Array.ForEach(signals, s => s.Dispose());
}
