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
    return await Benchmarks.RunAsync(quick);
}
catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException or HttpRequestException or TopologyException)
{
    Console.Error.WriteLine($"dive bench: {ex.Message}");
    return 1;
}
