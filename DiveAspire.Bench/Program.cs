using DiveAspire.Bench;
using DiveAspire.Topology;

// The benchmark reads /proc and runs Debian binaries.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// ./dive bench [--quick] [--startup]: measures, prints, and writes docs/benchmarks.md (whole suite only). Numbers are
// reported, never asserted. --startup measures only start-up and memory (for checking a change to the graph).
var quick = args.Contains("--quick");
var startupOnly = args.Contains("--startup");
var unknown = args.Where(a => a is not ("--quick" or "--startup")).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"dive bench: unknown option '{unknown[0]}' (valid: --quick, --startup)");
    return 2;
}

try
{
    return await Benchmarks.RunAsync(quick, startupOnly);
}
catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException or HttpRequestException or TopologyException)
{
    Console.Error.WriteLine($"dive bench: {ex.Message}");
    return 1;
}
