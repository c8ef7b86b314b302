using System.Security.Claims;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Perfolizer.Horology;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Revocation;

namespace DiveAspire.Bench;

/// <summary>
/// The revocation check every authenticated request runs (<see cref="RevocationCheckMiddleware.Refusal"/>), against a
/// cache holding a federation's worth of revocations and against an empty one (the baseline).
/// </summary>
[MemoryDiagnoser]
public class RevocationCheckBenchmarks
{
    public const int RevokedTokens = 100_000;
    public const int RevokedUsers = 10_000;

    private RevocationCache _empty = null!;
    private RevocationCache _full = null!;
    private ClaimsPrincipal _caller = null!;

    [GlobalSetup]
    public void Setup()
    {
        _empty = new RevocationCache(TimeProvider.System);
        _full = new RevocationCache(TimeProvider.System);
        var until = DateTimeOffset.UtcNow.AddHours(1);
        for (var i = 0; i < RevokedTokens; i++)
        {
            _full.Add(RevocationKind.Token, Guid.NewGuid().ToString(), until);
        }
        for (var i = 0; i < RevokedUsers; i++)
        {
            _full.Add(RevocationKind.User, $"bench-user-{i}", until);
        }
        _caller = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(DiveClaims.TokenId, Guid.NewGuid().ToString()), new Claim(DiveClaims.UniqueId, "testuser-usa-1")], "bench"));
    }

    [Benchmark(Baseline = true)]
    public string? EmptyCache() => RevocationCheckMiddleware.Refusal(_empty, _caller);

    [Benchmark]
    public string? FullCache() => RevocationCheckMiddleware.Refusal(_full, _caller);
}

public static class MicroBenchmarks
{
    public sealed record Result(double MedianNs, long AllocatedBytes);

    /// <summary>Runs in this process (no separate build): the numbers are those of the assemblies as built.</summary>
    public static IReadOnlyDictionary<string, Result> RevocationCheck(bool quick)
    {
        // The check takes well under a microsecond: 100 ms iterations hold a million calls each, enough for --quick.
        var job = (quick ? Job.ShortRun.WithIterationTime(TimeInterval.FromMilliseconds(100)) : Job.MediumRun).WithToolchain(InProcessEmitToolchain.Instance);
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddLogger(NullLogger.Instance)
            .WithOptions(ConfigOptions.DisableOptimizationsValidator)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "dive-bench-artifacts"));
        var summary = BenchmarkRunner.Run<RevocationCheckBenchmarks>(config);
        if (summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success))
        {
            throw new InvalidOperationException("the revocation-check micro-benchmark did not run: " +
                string.Join("; ", summary.ValidationErrors.Select(e => e.Message)));
        }
        return summary.Reports.ToDictionary(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name, r => new Result(
            r.ResultStatistics!.Median, r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) ?? 0));
    }
}
