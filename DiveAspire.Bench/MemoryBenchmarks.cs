namespace DiveAspire.Bench;

/// <summary>
/// ./dive bench --memory: the backend's memory settings one by one, one spoke each in one app (ROU and POL run the
/// project's own settings): RSS at idle after start-up, right after each wrk run on the full path and after the load,
/// with req/s and CPU per request, so a setting that saves memory is seen next to what it costs.
/// </summary>
public static class MemoryBenchmarks
{
    /// <summary>One spoke's setting: runtime knobs (DOTNET_&lt;knob&gt;, through Dive:DotnetEnv) and other AppHost switches.</summary>
    public sealed record Setting(string Code, string Name, string[] Knobs, string[] AppHostSettings);

    public const string Reference = "ROU";

    public static readonly Setting[] Settings =
    [
        new(Reference, "the project's settings", [], []),
        new("POL", "the project's settings again (noise floor)", [], []),
        new("BEL", "no concurrent (background) GC: gcConcurrent=0", ["gcConcurrent=0"], []),
        new("EST", "GCConserveMemory=5", ["GCConserveMemory=5"], []),
        new("FIN", "GCConserveMemory=9", ["GCConserveMemory=9"], []),
        new("DNK", "gen0 budget 4 MB: GCgen0size=0x400000", ["GCgen0size=400000"], []),
        new("NOR", "the runtime's own gen0 budget, not the AppHost's 32 MiB: GCgen0size=0", ["GCgen0size=0"], []),
        new("LVA", "TieredPGO=0", ["TieredPGO=0"], []),
        new("LTU", "TieredCompilation=0", ["TieredCompilation=0"], []),
        new("HRV", "GCHeapHardLimit=96 MB", ["GCHeapHardLimit=6000000"], []),
        new("SVN", "server GC (DATAS, .NET 10's default for it)", [], ["Dive:Gc:svn=server"]),
        new("CZE", "server GC without DATAS: GCDynamicAdaptationMode=0", ["GCDynamicAdaptationMode=0"], ["Dive:Gc:cze=server"]),
        new("SVK", "no telemetry export (Dive:Otlp:svk=false)", [], ["Dive:Otlp:svk=false"]),
        // (Invariant globalization, measured in session 6 at about 4 MB, is no longer a bench switch: Dive:DotnetEnv takes
        // GC and tiering knobs only since the review of session 6.)
        // No JIT and one mapped executable instead of the runtime and its assemblies (./dive publishes it first).
        new("NLD", "Native AOT backend (Dive:Build:nld=aot)", [], ["Dive:Build:nld=aot"]),
        new("DEU", "Native AOT backend again (noise floor)", [], ["Dive:Build:deu=aot"]),
    ];

    private static IEnumerable<string> AppHostArguments(IEnumerable<Setting> settings) =>
        settings.SelectMany(s => s.Knobs.Select(k => $"Dive:DotnetEnv:{s.Code.ToLowerInvariant()}:{k}")
                .Concat(s.AppHostSettings)
                .Append($"Dive:Backends:{s.Code.ToLowerInvariant()}:RateLimits:Store=redis"))
            .Append(WrkRuns.NoApiLimitHit);

    public static async Task RunAsync(string repoRoot, Report report, bool quick)
    {
        Console.WriteLine($"Backend memory settings (hub + {string.Join(", ", Settings.Select(s => s.Code))}: one setting per spoke)");
        await using var app = AppHostProcess.Start(repoRoot, [.. Settings.Select(s => s.Code)], monitoring: false, AppHostArguments(Settings));
        await app.WaitHealthyAsync(monitoring: false, TimeSpan.FromMinutes(6));
        var token = WrkRuns.MintToken(app);
        var backends = Settings.ToDictionary(s => s.Code, s => BackendProcess.Find(app, s.Code));
        await Task.WhenAll(backends.Keys.Select(code => WrkRuns.UploadAsync(code, token)));
        await Task.Delay(TimeSpan.FromSeconds(5));
        var idle = backends.ToDictionary(b => b.Key, b => b.Value.RssMb());
        var idleSplit = backends.ToDictionary(b => b.Key, b => b.Value.RssSplit());

        var targets = Settings.Select(s => new WrkRuns.Target(s.Code, s.Code, "/api/resources", OwnPort: false, WithToken: true)).ToList();
        var load = TimeSpan.FromSeconds(quick ? 3 : 10);
        var rounds = quick ? 1 : 2;
        Console.WriteLine($"  wrk -t{Wrk.Threads} -c{Wrk.Connections}, {rounds} round(s) of {load.TotalSeconds:F0} s per spoke after a 1 s warm-up each");
        var samples = await WrkRuns.RoundsAsync(targets, targets, backends, token, rounds, load);
        await Task.Delay(TimeSpan.FromSeconds(10));
        var settled = backends.ToDictionary(b => b.Key, b => b.Value.RssMb());
        var settledSplit = backends.ToDictionary(b => b.Key, b => b.Value.RssSplit());

        var reference = new WrkRuns.Summary(samples[Reference]);
        string Text(Setting s, WrkRuns.Summary summary) =>
            $"RSS idle {Report.F(idle[s.Code], 0)} MB (anonymous {Report.F(idleSplit[s.Code].AnonymousMb, 0)}, file {Report.F(idleSplit[s.Code].FileMb, 0)}), " +
            $"after a run {Report.F(summary.RssMb, 0)} MB, 10 s after the load {Report.F(settled[s.Code], 0)} MB (anonymous {Report.F(settledSplit[s.Code].AnonymousMb, 0)}, file {Report.F(settledSplit[s.Code].FileMb, 0)}); " +
            $"{Report.F(summary.Rps, 0)} req/s, {Report.F(summary.CpuUsPerRequest, 0)} us CPU/req";
        var referenceText = Text(Settings[0], reference);
        report.Add($"memory, {Reference}: {Settings[0].Name}", referenceText);
        foreach (var s in Settings.Skip(1))
        {
            var summary = new WrkRuns.Summary(samples[s.Code]);
            report.Add($"memory, {s.Code}: {s.Name}, vs {Reference} (ratio: RSS after a run / req/s)", Text(s, summary), referenceText,
                $"{Report.F(summary.RssMb / reference.RssMb)} / {Report.F(summary.Rps / reference.Rps)}");
        }
        report.Note($"Memory: an app with the hub and {Settings.Length} spokes, one setting each (DOTNET_ knobs through Dive:DotnetEnv:<code>:<knob>); RSS from " +
            $"/proc/<pid>/status 5 s after start-up and {WrkRuns.Uploads} uploads, the largest right after a wrk run on the full path, and 10 s after the last run; anonymous = the process's own memory (GC heap, JIT code, stacks, native), file = mapped images shared with other backends (smaps_rollup). " +
            $"wrk -t{Wrk.Threads} -c{Wrk.Connections}, {load.TotalSeconds:F0} s per run, {rounds} round(s), the order shuffled each round, medians.");
    }
}
