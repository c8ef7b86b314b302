using System.Net;
using System.Net.Http.Json;
using DiveAspire.Cli.Tokens;
using DiveAspire.Topology;

namespace DiveAspire.Bench;

/// <summary>
/// What the wrk parts of the bench share: targets on a running app, interleaved rounds in a new order each round, the
/// backend's CPU time and RSS around each run, and the uploads that give every catalog something to read.
/// </summary>
public static class WrkRuns
{
    /// <summary>One wrk target: a path on one spoke, on the URL users reach (the port plan's) or on the backend's own
    /// port; paced at <paramref name="Rate"/> requests a second when given.</summary>
    public sealed record Target(string Key, string Code, string Path, bool OwnPort, bool WithToken, double? Rate = null);

    /// <param name="RedisCpuUsPerRequest">the backend's redis-server, when measured (<see cref="BackendProcess.RedisPid"/>); else NaN</param>
    public sealed record Sample(Wrk.Result Wrk, double CpuUsPerRequest, double RssMb, double RedisCpuUsPerRequest = double.NaN);

    /// <summary>Uploads in each measured catalog, so the catalog read has something to read (the seed alone lives in memory).</summary>
    public const int Uploads = 20;

    /// <summary>The api limit raised, so the limiter's work is measured, not its 429s.</summary>
    public const string NoApiLimitHit = "Dive:RateLimits:api:Max=1000000000";

    public static string MintToken(AppHostProcess app) =>
        DevTokenMinter.Mint(new DevTokenMinter.Request(NatoCatalog.Hub, $"load-{Guid.NewGuid():N}", Jti: Guid.NewGuid().ToString(), Ttl: TimeSpan.FromMinutes(30)), app.SigningKey);

    public static bool Proxied(BackendProcess backend) => backend.OwnUri.Port != AppHostProcess.BackendUri(backend.Code).Port;

    /// <summary>
    /// Each warm-up target once (1 s unless <paramref name="warmUp"/> says), then <paramref name="rounds"/> rounds over
    /// every target. The order is shuffled anew each round (fixed seeds): with one fixed rotation a target always ran
    /// right after the same other one and inherited what that run left behind (the dashboard still ingesting its
    /// telemetry, a GC of the same app).
    /// </summary>
    public static async Task<Dictionary<string, List<Sample>>> RoundsAsync(
        IReadOnlyList<Target> targets, IEnumerable<Target> warmUps, IReadOnlyDictionary<string, BackendProcess> backends, string token, int rounds, TimeSpan load,
        TimeSpan? warmUp = null)
    {
        foreach (var target in warmUps)
        {
            await MeasureAsync(target, backends[target.Code], token, warmUp ?? TimeSpan.FromSeconds(1));
        }
        var samples = targets.ToDictionary(t => t.Key, _ => new List<Sample>());
        for (var round = 0; round < rounds; round++)
        {
            var order = targets.ToArray();
            new Random(round).Shuffle(order);
            foreach (var target in order)
            {
                samples[target.Key].Add(await MeasureAsync(target, backends[target.Code], token, load));
            }
        }
        return samples;
    }

    public static async Task<Sample> MeasureAsync(Target target, BackendProcess backend, string token, TimeSpan duration)
    {
        var url = new Uri(target.OwnPort ? backend.OwnUri : AppHostProcess.BackendUri(target.Code), target.Path);
        var (cpuBefore, redisCpuBefore) = (backend.CpuMicroseconds(), backend.RedisCpuMicroseconds());
        var result = await Wrk.RunAsync(url, target.WithToken ? token : null, duration, target.Rate);
        var (cpu, redisCpu) = (backend.CpuMicroseconds() - cpuBefore, backend.RedisCpuMicroseconds() - redisCpuBefore);
        if (result.Non2xx > 0 || result.SocketErrors > 0)
        {
            throw new InvalidOperationException($"wrk {url}: {result.Non2xx} non-2xx responses, {result.SocketErrors} socket errors of {result.Requests} requests");
        }
        if (result.Timeouts > 0)
        {
            Console.WriteLine($"  warning: wrk {url}: {result.Timeouts} of {result.Requests} requests got no response within {Wrk.Timeout.TotalSeconds:F0} s (an overloaded machine?)");
        }
        return result.Requests == 0
            ? new Sample(result, double.NaN, backend.RssMb())
            : new Sample(result, cpu / result.Requests, backend.RssMb(), redisCpu / result.Requests);
    }

    /// <summary>Medians over the rounds of one target; RSS is the largest seen right after a run.</summary>
    public sealed class Summary(List<Sample> samples)
    {
        public double Rps { get; } = Stats.Median([.. samples.Select(s => s.Wrk.RequestsPerSecond)]);

        public double P99Ms { get; } = Stats.Median([.. samples.Select(s => s.Wrk.P99Ms)]);

        public double CpuUsPerRequest { get; } = Stats.Median([.. samples.Select(s => s.CpuUsPerRequest)]);

        public double RssMb { get; } = samples.Max(s => s.RssMb);

        /// <summary>NaN when the backend's redis-server was not measured.</summary>
        public double RedisCpuUsPerRequest { get; } = samples.Any(s => double.IsNaN(s.RedisCpuUsPerRequest)) ? double.NaN : Stats.Median([.. samples.Select(s => s.RedisCpuUsPerRequest)]);

        public string Text =>
            $"{Report.F(Rps, 0)} req/s, p50 / p99 {Report.F(Stats.Median([.. samples.Select(s => s.Wrk.P50Ms)]), 2)} / {Report.F(P99Ms, 2)} ms, " +
            $"{Report.F(CpuUsPerRequest, 0)} us CPU/req{(double.IsNaN(RedisCpuUsPerRequest) ? "" : $" (+ {Report.F(RedisCpuUsPerRequest, 0)} us its Redis)")}, RSS {Report.F(RssMb, 0)} MB";
    }

    /// <summary>A few unclassified documents releasable to the whole federation, as a user would upload them.</summary>
    public static async Task UploadAsync(string code, string token)
    {
        using var http = new HttpClient { BaseAddress = AppHostProcess.BackendUri(code), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        for (var i = 1; i <= Uploads; i++)
        {
            using var response = await http.PostAsJsonAsync("/api/upload", new
            {
                resourceId = $"{code}-BENCH-{i:D3}",
                title = $"Benchmark document {i}",
                classification = "UNCLASSIFIED",
                releasabilityTo = new[] { "USA", "ROU", "BEL", "EST", "DNK", "LVA", "LTU", "HRV", "SVN", "SVK" },
                coi = Array.Empty<string>(),
            });
            if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Created))
            {
                throw new InvalidOperationException($"upload to {code} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }
    }
}
