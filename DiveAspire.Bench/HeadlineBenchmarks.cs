namespace DiveAspire.Bench;

/// <summary>
/// The headline numbers, measured as the issue measured them: an app with the hub and ROU only (<c>./dive up --spokes
/// rou</c>), wrk -t2 -c32 on ROU's <c>/health/live</c> and full path on the URL users reach, and (JIT) on the original
/// stack's rate-limited endpoint in the same rounds (<see cref="OriginalStack"/>); then the full path paced at half the
/// 13,000 req/s target and at half the rate just measured, for p99 at a rate the backend can hold, and (full mode) its
/// /health/live and the floor paced at half the target, for the p99 this machine gives any request at that rate.
/// </summary>
public static class HeadlineBenchmarks
{
    public const string Code = "ROU";
    public const double TargetRps = 13_000;
    public const double TargetP99AtHalfMs = 5;

    /// <summary>The target as a same-run ratio: the full path at least twice the original stack's endpoint.</summary>
    public const double TargetRatioToOriginal = 2.0;

    /// <param name="aot">every backend of the app is the Native AOT executable (what a deployment publishes for the memory target)</param>
    public static IEnumerable<string> AppHostArguments(bool aot) =>
        [$"Dive:Backends:{Code.ToLowerInvariant()}:RateLimits:Store=redis", WrkRuns.NoApiLimitHit, .. aot ? new[] { "Dive:Backend:Build=aot" } : []];

    public static async Task RunAsync(string repoRoot, AppHostProcess app, Report report, bool quick, bool aot)
    {
        var build = aot ? ", Native AOT backends" : "";
        var token = WrkRuns.MintToken(app);
        var backend = BackendProcess.Find(app, Code).WithRedis(app);
        var backends = new Dictionary<string, BackendProcess> { [Code] = backend };
        await WrkRuns.UploadAsync(Code, token);
        // The baseline answers ROU's own body for this token: the same bytes on the wire.
        var listing = await ListingAsync(token);
        await using var original = aot ? null : await OriginalStack.StartAsync(repoRoot, listing.Body);
        await using var floor = aot ? null : await FloorServer.StartAsync(backend, listing.Body);
        var url = WrkRuns.Proxied(backend) ? $"{AppHostProcess.BackendUri(Code)} (orchestrator proxy)" : $"{AppHostProcess.BackendUri(Code)} (the backend's own port: no proxy)";

        var load = TimeSpan.FromSeconds(quick ? 3 : 10);
        var rounds = quick ? 1 : 3;
        List<WrkRuns.Target> targets =
        [
            new("health", Code, "/health/live", OwnPort: false, WithToken: false),
            new("full", Code, "/api/resources", OwnPort: false, WithToken: true),
        ];
        if (original is not null)
        {
            // With the same Authorization header as ROU's requests: the original's endpoint received it and ignored it.
            targets.Add(new("original", OriginalStack.Code, "/api/resources", OwnPort: true, WithToken: true));
            backends[OriginalStack.Code] = original.Backend;
        }
        if (floor is not null)
        {
            targets.Add(new("floor", FloorServer.Code, FloorServer.LimiterAndCatalogPath, OwnPort: true, WithToken: true));
            if (!quick)
            {
                targets.Add(new("floor limiter", FloorServer.Code, FloorServer.LimiterPath, OwnPort: true, WithToken: true));
            }
            backends[FloorServer.Code] = floor.Backend;
        }
        // A fresh backend reaches its steady rate only after 10-20 s of load (tiered JIT and PGO, the GC's budgets): measured
        // 9,300 req/s in its first 10 s round and 13,500 in its third (docs/benchmarks.md, session 11). Node warms up too.
        // The quick run (CI, under 3 minutes) gets 5 s: past the cold first second, still short of the steady rate.
        var warmUp = TimeSpan.FromSeconds(quick ? 5 : 20);
        Console.WriteLine($"  hub + {Code} only: wrk -t{Wrk.Threads} -c{Wrk.Connections}, {rounds} round(s) of {load.TotalSeconds:F0} s after a {warmUp.TotalSeconds:F0} s warm-up each");
        var samples = await WrkRuns.RoundsAsync(targets, targets, backends, token, rounds, load, warmUp);
        if (original is not null)
        {
            await original.DisposeAsync(); // not left running next to the paced runs
        }
        if (floor is not null && quick)
        {
            await floor.DisposeAsync(); // paced only in full mode
        }
        var health = new WrkRuns.Summary(samples["health"]);
        var full = new WrkRuns.Summary(samples["full"]);
        report.Add($"{Code} GET /health/live on {url}, hub + {Code} only{build}, median of {rounds}", health.Text);
        report.Add($"{Code} GET /api/resources with a token (full path: JWT + revocation check + Redis limiter + ACP-240) on the URL users reach, hub + {Code} only{build}, median of {rounds}",
            full.Text, target: $">= {TargetRps:F0} req/s", met: full.Rps >= TargetRps);
        if (original is not null)
        {
            var baseline = new WrkRuns.Summary(samples["original"]);
            report.Add($"original stack's rate-limited endpoint re-created (OriginalStack/server.js): one Node {original.NodeVersion} process, express 5, api limiter " +
                $"(express-rate-limit 8, Redis store rate-limit-redis 6 + ioredis 6 on its own redis-server), GET /api/resources answering {Code}'s body " +
                $"({listing.Count} resources, {listing.Body.Length:N0} bytes); no JWT, no revocation check, no ACP-240 (the original's endpoint had none), median of {rounds}",
                baseline.Text);
            var ratio = full.Rps / baseline.Rps;
            report.Add($"{Code} full path on the URL users reach vs the original stack's endpoint, req/s, same wrk, same rounds{build}",
                full.Text, baseline.Text, Report.F(ratio), $">= {TargetRatioToOriginal:F1}", ratio >= TargetRatioToOriginal);
        }
        if (floor is not null)
        {
            var ceiling = new WrkRuns.Summary(samples["floor"]);
            report.Add($"floor: a bare ASP.NET Core endpoint (Kestrel, one route, no middleware) sending only {Code}'s Redis commands (the limiter's script by EVALSHA " +
                $"+ the catalog's HGETALL, pipelined) to {Code}'s redis-server, answering {Code}'s body; no JWT, revocation check, ACP-240, telemetry or logging, median of {rounds}",
                ceiling.Text);
            if (samples.TryGetValue("floor limiter", out var limiterOnly))
            {
                var limiter = new WrkRuns.Summary(limiterOnly);
                report.Add($"floor with the limiter's script only (no catalog read: the least a design keeping the exact Redis limiter sends), median of {rounds}",
                    limiter.Text);
            }
            if (!WrkRuns.Proxied(backend))
            {
                // Both on a backend's own port: a proxy in front of ROU would be charged to its request path.
                report.Add($"{Code} full path vs the floor (the share of this machine's ceiling with {Code}'s Redis work that the whole request path keeps), same rounds",
                    full.Text, ceiling.Text, Report.F(full.Rps / ceiling.Rps));
            }
        }

        // Paced: p99 at a rate held, not at saturation (where latency is mostly queueing).
        var halfTarget = TargetRps / 2;
        var halfMeasured = Math.Round(full.Rps / 2);
        List<WrkRuns.Target> paced =
        [
            new("half target", Code, "/api/resources", OwnPort: false, WithToken: true, Rate: halfTarget),
            new("half measured", Code, "/api/resources", OwnPort: false, WithToken: true, Rate: halfMeasured),
        ];
        if (!quick)
        {
            // The tail of the lightest request the backend answers, at the same rate: the p99 this machine gives any request.
            paced.Add(new("health half target", Code, "/health/live", OwnPort: false, WithToken: false, Rate: halfTarget));
        }
        if (floor is not null && !quick)
        {
            paced.Add(new("floor half target", FloorServer.Code, FloorServer.LimiterAndCatalogPath, OwnPort: true, WithToken: true, Rate: halfTarget));
        }
        var pacedSamples = await WrkRuns.RoundsAsync(paced, [], backends, token, rounds, load);
        if (floor is not null)
        {
            await floor.DisposeAsync();
        }
        var atHalfTarget = new WrkRuns.Summary(pacedSamples["half target"]);
        var atHalfMeasured = new WrkRuns.Summary(pacedSamples["half measured"]);
        // Met only if the rate was held too: a backend that cannot reach it would otherwise pass on a lighter load.
        report.Add($"{Code} full path paced at {halfTarget:F0} req/s (half the target){build}, achieved rate, p50 / p99, median of {rounds}", atHalfTarget.Text,
            target: $"p99 <= {TargetP99AtHalfMs:F0} ms at {halfTarget:F0} req/s", met: atHalfTarget.Rps >= 0.95 * halfTarget && atHalfTarget.P99Ms <= TargetP99AtHalfMs);
        report.Add($"{Code} full path paced at {halfMeasured:F0} req/s (half the rate measured above){build}, achieved rate, p50 / p99, median of {rounds}", atHalfMeasured.Text,
            target: $"p99 <= {TargetP99AtHalfMs:F0} ms", met: atHalfMeasured.Rps >= 0.95 * halfMeasured && atHalfMeasured.P99Ms <= TargetP99AtHalfMs);
        if (pacedSamples.TryGetValue("health half target", out var healthPaced))
        {
            report.Add($"{Code} GET /health/live paced at {halfTarget:F0} req/s (no token, no Redis: the p99 this machine gives the lightest request at that rate){build}, achieved rate, p50 / p99, median of {rounds}",
                new WrkRuns.Summary(healthPaced).Text);
        }
        if (pacedSamples.TryGetValue("floor half target", out var floorPaced))
        {
            report.Add($"floor paced at {halfTarget:F0} req/s (the p99 this machine gives a request with {Code}'s Redis work at that rate), achieved rate, p50 / p99, median of {rounds}",
                new WrkRuns.Summary(floorPaced).Text);
        }
        var rss = new[] { full, atHalfTarget, atHalfMeasured }.Max(s => s.RssMb);
        report.Add($"{Code} backend RSS right after a wrk run (default settings, hub + {Code} only{build})", $"{Report.F(rss, 0)} MB", target: "< 120 MB", met: rss < 120);
        if (aot)
        {
            return;
        }
        if (original is not null)
        {
            report.Note($"Original-stack baseline: measured in the headline's rounds, its order shuffled with {Code}'s runs; its CPU per request is the Node process's, " +
                $"\"+ N us its Redis\" the CPU of its redis-server (for {Code}: {Code}'s redis-server, which its limiter uses). It has only the limiter and the route: " +
                "whatever other middleware the original ran on every request is left out, so it is the original at its fastest.");
        }
        report.Note("Floor: the bench's own executable in server mode (FloorServer.cs), a process with ROU's redis-server and credential, its GC settings " +
            "(the AppHost's gen0 budget) and thread-pool setting, measured in the headline's rounds; its CPU per request is its own, \"+ N us its Redis\" " +
            $"{Code}'s redis-server's. A floor under the target (or, paced, a floor p99 above 5 ms) means no request path that sends the same Redis commands meets it on this machine on this day; " +
            $"a p99 above 5 ms for {Code}'s /health/live paced at the same rate (full mode) means no request to the backend on that URL meets it.");
        report.Note($"Headline: an app with the hub and {Code} only (as ./dive up --spokes rou), {Code} with default settings (every lever on); wrk -t{Wrk.Threads} " +
            $"-c{Wrk.Connections} --latency, {load.TotalSeconds:F0} s per run after a {warmUp.TotalSeconds:F0} s warm-up run of each target, {rounds} round(s), medians. Paced runs: wrk's delay() hook holds each of its {Wrk.Threads} threads " +
            "to a schedule of rate / threads requests a second; a connection waiting for its response takes no slot, so if responses lag the load drops " +
            "instead of queueing (coordinated omission: the delay the unsent requests would have seen is not counted). A rate is met only if at least 95 % of it was achieved.");
    }

    /// <summary>ROU's GET /api/resources body for the bench's token (what wrk receives) and its resource count.</summary>
    private static async Task<(byte[] Body, int Count)> ListingAsync(string token)
    {
        using var http = new HttpClient { BaseAddress = AppHostProcess.BackendUri(Code), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        using var response = await http.GetAsync("/api/resources");
        var body = await response.Content.ReadAsByteArrayAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET /api/resources on {Code} answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
        }
        using var json = System.Text.Json.JsonDocument.Parse(body);
        return (body, json.RootElement.GetProperty("count").GetInt32());
    }
}
