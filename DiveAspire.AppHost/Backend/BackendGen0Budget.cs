namespace Aspire.Hosting;

/// <summary>
/// Every backend's gen0 allocation budget: 32 MiB (<c>DOTNET_GCgen0size</c>, hexadecimal; the runtime takes it from the
/// environment only, runtimeconfig keys for it are ignored). Without it the workstation GC sizes gen0 from the CPU cache
/// it finds: on VMs that expose no cache sizes (these 2-core machines) about 3 MB, and the full request path (about 23 KB
/// allocated per request) then ran about 30 gen0 and 30 gen1 collections a second under wrk, the process paused 9 % of the
/// time. With 32 MiB: about 7 gen0 a second, 2 % paused, +15-20 % req/s and -17 % CPU per request in the same run, the
/// same RSS idle after start-up, about +30 MB RSS under load (docs/benchmarks.md, session 11). The bench's
/// <c>Dive:DotnetEnv:&lt;code&gt;:GCgen0size=0</c> gives a spoke the runtime's own budget back, for comparison.
/// </summary>
public static class BackendGen0Budget
{
    public const string Variable = "DOTNET_GCgen0size";

    public const string Value = "0x2000000";

    public static IResourceBuilder<T> WithGen0Budget<T>(this IResourceBuilder<T> backend) where T : IResourceWithEnvironment =>
        backend.WithEnvironment(Variable, Value);
}
