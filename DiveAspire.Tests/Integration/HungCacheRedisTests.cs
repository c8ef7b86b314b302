using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using DiveAspire.Cli;
using DiveAspire.Cli.Tokens;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Xunit.Abstractions;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// The instance's own Redis hung (SIGSTOPped, as a frozen VM or a stuck disk would leave it) while clients keep calling
/// every route that uses it: the real backend binary against real redis-server processes. The backend must keep
/// serving (rate limits from memory, uncached decisions and searches, 503 where the route cannot do without its Redis),
/// never answer 500, never stop listening, and use its Redis again once it resumes.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HungCacheRedisTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(25);

    /// <summary>
    /// Concurrent callers: enough that commands are still awaiting replies on the hung connection when the client tears it
    /// down, which failed them with the reader's InvalidOperationException and stopped the host (see RedisFailures).
    /// Before that fix every run failed (500s); the backend itself exited in 9 of 17 runs with 32 callers and 25 s of
    /// outage, in none of 3 runs with 8 callers.
    /// </summary>
    private const int Clients = 32;

    /// <summary>Statuses a route may answer while its Redis is hung: anything but a 5xx other than 503.</summary>
    private static bool AsDesigned(HttpStatusCode status) => (int)status < 500 || status == HttpStatusCode.ServiceUnavailable;

    [Fact]
    public async Task A_backend_under_load_keeps_serving_while_its_Redis_is_hung_and_uses_it_again_when_it_resumes()
    {
        using var cache = new PlainRedisServer(password: true, aof: false);
        using var blacklist = new PlainRedisServer(password: true, aof: false);
        var signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        using var backend = new BackendProcess(new Dictionary<string, string>
        {
            ["ConnectionStrings__cache"] = $"{cache.Endpoint},user={RedisAcl.AdminUser},password={cache.Password}{RedisAcl.ClientOptions}",
            ["ConnectionStrings__blacklist"] = $"{blacklist.Endpoint},user={RedisAcl.AdminUser},password={blacklist.Password}{RedisAcl.ClientOptions}",
            ["Dive__Auth__DevSigningKey"] = signingKey,
            ["Dive__Otp__Key"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
            // Limits out of the way: every request reaches its route and the route's own Redis commands.
            ["Dive__RateLimits__api__Max"] = "1000000",
            ["Dive__RateLimits__upload__Max"] = "1000000",
            ["Dive__RateLimits__auth__Max"] = "1000000",
            ["Dive__RateLimits__admin__Max"] = "1000000",
            ["Dive__RateLimits__strict__Max"] = "1000000",
        });
        var stopped = false;
        try
        {
            await backend.WaitReadyAsync(Ready);
            string Mint(string user, IReadOnlyList<string>? roles = null) =>
                DevTokenMinter.Mint(new(NatoCatalog.Hub, user, "TOP_SECRET", Country: "USA", Coi: ["NATO"], Roles: roles), signingKey);
            var routes = Routes(Mint("hung-user"), Mint("hung-admin", ["dive-admin"]));
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
            {
                BaseAddress = backend.Http.BaseAddress,
                Timeout = TimeSpan.FromSeconds(15),
            };

            // Every route once with the Redis answering: all as designed, so what follows is the outage's doing.
            foreach (var route in routes)
            {
                var (_, status, error, _) = await CallAsync(http, route);
                Assert.True(status is { } s && AsDesigned(s), $"{route.Name} before the outage: {status?.ToString() ?? error}\n{Tail(backend)}");
            }

            Assert.True(LocalProcesses.Signal(cache.ProcessId, UnixSignal.Stop), "the cache redis-server was not running");
            stopped = true;
            var results = await LoadAsync(http, routes, Outage, backend);
            Assert.True(LocalProcesses.Signal(cache.ProcessId, UnixSignal.Cont));
            stopped = false;

            output.WriteLine(Summary(results));
            // What the client failed commands with, as the backend reported them (health checks, caches): shows which paths ran.
            var lines = backend.Output.Split('\n');
            foreach (var kind in new[] { "InvalidOperationException", "TaskCanceledException", "RedisTimeoutException", "RedisConnectionException" })
            {
                output.WriteLine($"backend log lines naming {kind}: {lines.Count(l => l.Contains(kind, StringComparison.Ordinal))}");
            }
            var wrong = results.Where(r => r.Status is not { } status || !AsDesigned(status)).ToList();
            Assert.False(backend.HasExited, $"the backend exited while its Redis was hung (code {backend.ExitCode}):\n{Summary(results)}\n{Tail(backend)}");
            Assert.True(wrong.Count == 0, $"{wrong.Count} of {results.Count} responses while the Redis was hung were not as designed:\n"
                + string.Join('\n', wrong.GroupBy(r => (r.Route, r.Status, r.Error)).Select(g => $"  {g.Count()} x {g.Key.Route}: {g.Key.Status?.ToString() ?? g.Key.Error}"))
                + $"\n{Tail(backend)}");
            Assert.Contains(results, r => r.Status == HttpStatusCode.OK);

            // The outage's 503s are logged as an outage, per route and failure: a line at once, then at most about one per
            // interval that counts the rest; never an error with a stack trace per request (29 for 106 503s before).
            var refused = results.Count(r => r.Status == HttpStatusCode.ServiceUnavailable);
            Assert.True(refused > 0, $"no route answered 503 while the Redis was hung:\n{Summary(results)}");
            var perRequestErrors = lines.Count(l => l.Contains("fail: " + typeof(DiveAspire.Backend.Errors.ClientErrorExceptionHandler).FullName, StringComparison.Ordinal));
            Assert.True(perRequestErrors == 0, $"{perRequestErrors} errors logged for {refused} 503s:\n{Tail(backend)}");
            var outageLines = lines.Select(l => OutageLine.Match(l)).Where(m => m.Success)
                .GroupBy(m => (m.Groups["request"].Value, m.Groups["failure"].Value)).ToList();
            output.WriteLine($"{refused} responses 503; backend log, outage lines per request and failure: "
                + string.Join(", ", outageLines.Select(g => $"{g.Key.Item1} {g.Key.Item2}: {g.Count()}")));
            Assert.NotEmpty(outageLines);
            var perInterval = (int)(Outage / DiveAspire.Backend.Errors.RedisOutageLog.Interval) + 3;
            Assert.All(outageLines, g => Assert.True(g.Count() <= perInterval, $"{g.Count()} lines for {g.Key}:\n{Tail(backend)}"));

            // Back on its Redis: the limiter, the health checks and a route that stores in it.
            await HttpAssertions.EventuallyAsync(async () => !backend.HasExited
                && await HttpAssertions.MetricAsync(http, "dive_v3_rate_limit_store{store=\"redis\"}") == 1, TimeSpan.FromSeconds(30), "rate limiting back on Redis");
            await HttpAssertions.EventuallyAsync(async () =>
            {
                using var health = await http.GetAsync("/health/redis");
                return health.IsSuccessStatusCode;
            }, TimeSpan.FromSeconds(30), "the Redis health checks to pass again");
            var (_, uploaded, uploadError, _) = await CallAsync(http, routes.Single(r => r.Name == "upload"));
            Assert.True(uploaded == HttpStatusCode.Created, $"an upload after the outage: {uploaded?.ToString() ?? uploadError}\n{Tail(backend)}");
            Assert.False(backend.HasExited, $"the backend exited after the outage:\n{Tail(backend)}");
        }
        finally
        {
            if (stopped)
            {
                LocalProcesses.Signal(cache.ProcessId, UnixSignal.Cont);
            }
        }
    }

    /// <summary>A line of <c>RedisOutageLog</c>: the first of an outage, or one that counts the 503s since.</summary>
    private static readonly System.Text.RegularExpressions.Regex OutageLine = new(
        @"(?<request>[A-Z]+ /\S*) answered 503: a Redis store did not answer \((?<failure>\w+):|answered 503 for a Redis failure since the last such line, the latest (?<request>[A-Z]+ /\S*) \((?<failure>\w+):");

    private sealed record Route(string Name, Func<HttpRequestMessage> Request);

    private sealed record Result(string Route, HttpStatusCode? Status, string? Error, TimeSpan Took);

    private static List<Route> Routes(string user, string admin)
    {
        static HttpRequestMessage With(HttpRequestMessage request, string token)
        {
            request.Headers.Authorization = new("Bearer", token);
            return request;
        }
        var challenge = AuthorizationCodeChallenge("verifier-" + new string('v', 40));
        return
        [
            new("resources", () => With(new(HttpMethod.Get, "/api/resources"), user)),
            new("resources anonymous", () => new(HttpMethod.Get, "/api/resources")),
            new("upload", () => With(new(HttpMethod.Post, "/api/upload")
            {
                Content = JsonContent.Create(new
                {
                    resourceId = "USA-hung-" + Guid.NewGuid().ToString("N")[..12], title = "written while the Redis was hung",
                    classification = "UNCLASSIFIED", releasabilityTo = new[] { "USA" }, coi = Array.Empty<string>(),
                }),
            }, user)),
            new("decision", () => With(new(HttpMethod.Get, "/api/authz/decision/USA-SECRET-001"), user)),
            new("federated search", () => With(new(HttpMethod.Get, "/api/resources/federated-search?q=report"), user)),
            new("oauth authorize", () => With(new(HttpMethod.Post, "/api/oauth/authorize")
            {
                Content = JsonContent.Create(new { clientId = "hung-client", redirectUri = "https://client.example/cb", codeChallenge = challenge, codeChallengeMethod = "S256" }),
            }, user)),
            new("oauth token", () => new(HttpMethod.Post, "/api/oauth/token")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "authorization_code", ["code"] = "no-such-code", ["client_id"] = "hung-client",
                    ["redirect_uri"] = "https://client.example/cb", ["code_verifier"] = "verifier-" + new string('v', 40),
                }),
            }),
            new("otp setup", () => With(new(HttpMethod.Post, "/api/auth/otp/setup"), user)),
            new("admin rate limits", () => With(new(HttpMethod.Get, "/api/admin/rate-limits"), admin)),
            new("admin invalidate", () => With(new(HttpMethod.Post, "/api/admin/authz/invalidate")
            {
                Content = JsonContent.Create(new { scope = "resource", identifier = "USA-SECRET-001" }),
            }, admin)),
            new("health", () => new(HttpMethod.Get, "/health")),
            new("health ready", () => new(HttpMethod.Get, "/health/ready")),
        ];
    }

    private static string AuthorizationCodeChallenge(string verifier) =>
        Convert.ToBase64String(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary><see cref="Clients"/> callers, each going through the routes in turn from another start, for <paramref name="duration"/>.</summary>
    private static async Task<List<Result>> LoadAsync(HttpClient http, List<Route> routes, TimeSpan duration, BackendProcess backend)
    {
        var results = new ConcurrentQueue<Result>();
        var until = DateTime.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async client =>
        {
            for (var i = client; DateTime.UtcNow < until && !backend.HasExited; i++)
            {
                results.Enqueue(await CallAsync(http, routes[i % routes.Count]));
            }
        }));
        return [.. results];
    }

    private static async Task<Result> CallAsync(HttpClient http, Route route)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            using var request = route.Request();
            using var response = await http.SendAsync(request);
            await response.Content.LoadIntoBufferAsync();
            return new(route.Name, response.StatusCode, null, watch.Elapsed);
        }
        catch (HttpRequestException ex)
        {
            var reason = ex.InnerException is SocketException socket ? socket.SocketErrorCode.ToString() : ex.HttpRequestError.ToString();
            return new(route.Name, null, reason, watch.Elapsed);
        }
        catch (TaskCanceledException)
        {
            return new(route.Name, null, $"no answer within {http.Timeout.TotalSeconds:0} s", watch.Elapsed);
        }
    }

    private static string Summary(List<Result> results) =>
        $"{results.Count} requests while the Redis was hung:\n" + string.Join('\n', results.GroupBy(r => r.Route).Select(g =>
            $"  {g.Key}: " + string.Join(", ", g.GroupBy(r => r.Status?.ToString() ?? r.Error).Select(s => $"{s.Count()} x {s.Key}"))
            + $" (slowest {g.Max(r => r.Took).TotalSeconds:0.0} s)"));

    /// <summary>From the backend's unhandled exception or its host's stop on, else its last lines.</summary>
    private static string Tail(BackendProcess backend)
    {
        var lines = backend.Output.Split('\n');
        var crash = Array.FindIndex(lines, l => l.Contains("Unhandled exception", StringComparison.Ordinal)
            || l.Contains("BackgroundService failed", StringComparison.Ordinal) || l.Contains("Application is shutting down", StringComparison.Ordinal));
        return "--- the backend's output:\n" + string.Join('\n', crash >= 0 ? lines.Skip(Math.Max(0, crash - 10)).Take(60) : lines.TakeLast(40));
    }
}
