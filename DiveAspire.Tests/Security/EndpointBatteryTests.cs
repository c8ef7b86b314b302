using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using DiveAspire.Cli.Tokens;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Xunit.Abstractions;

namespace DiveAspire.Tests.Security;

/// <summary>
/// The bad-input battery, generated for every endpoint of ROU's running route table (a new endpoint gets it without
/// anyone writing a test): no 5xx, a JSON error body on every 4xx, no stack trace in the backend's log, and the
/// backend healthy and serving afterwards.
/// </summary>
[Trait("Category", "Security")]
[Collection(BadInputCollection.Name)]
public sealed class EndpointBatteryTests(BadInputFixture federation, ITestOutputHelper output)
{
    private const string Code = BadInputFixture.Code;

    private string Admin() => federation.Mint(Code, "battery-" + Guid.NewGuid().ToString("N")[..12], "TOP_SECRET", roles: ["dive-admin"]);

    private async Task<IReadOnlyList<RouteInfo>> RoutesAsync()
    {
        using var http = federation.Backend(Code, Admin());
        using var response = await http.GetAsync("/api/admin/routes");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.JsonAsync()).EnumerateArray().Select(EndpointBattery.Parse)];
    }

    /// <summary>No header, garbage, a three-part non-JWT, alg "none", expired, revoked, oversized.</summary>
    private async Task<IReadOnlyList<(string? Token, bool Anonymous)>> BadTokensAsync()
    {
        var revoked = federation.Mint(Code, "battery-revoked-" + Guid.NewGuid().ToString("N")[..8], roles: ["dive-admin"]);
        using (var http = federation.Backend(Code, revoked))
        {
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/auth/logout", null)).StatusCode);
        }
        static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var exp = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        var algNone = $"{B64("""{"alg":"none","typ":"JWT"}""")}.{B64($$"""{"iss":"{{Federation.Issuer(NatoCatalog.Get(Code))}}","aud":"{{Federation.Audience}}","exp":{{exp}},"jti":"n","uniqueID":"x","roles":["dive-admin"]}""")}.";
        var expired = DevTokenMinter.Mint(new(NatoCatalog.Get(Code), "old", Ttl: TimeSpan.FromMinutes(1), Now: DateTimeOffset.UtcNow.AddMinutes(-10), Roles: ["dive-admin"]),
            federation.Secrets.DevSigningKey);
        return [(null, true), ("not-a-jwt", false), ("a.b.c", false), (algNone, false), (expired, false), (revoked, false), (new string('e', 12_000), false)];
    }

    [Fact]
    public async Task Every_endpoint_answers_every_bad_input_with_a_4xx_json_error_and_stays_healthy()
    {
        var routes = await RoutesAsync();
        Assert.Contains(routes, r => r.Pattern == "/api/upload");
        Assert.Contains(routes, r => r.Pattern == "/api/oauth/token");
        Assert.True(routes.Count >= 20, $"only {routes.Count} routes in the table");

        var badTokens = await BadTokensAsync();
        var requests = routes.SelectMany(r => EndpointBattery.For(r, badTokens)).ToList();
        var logLinesBefore = federation.Logs.Lines.Count;
        var violations = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var resent = 0;
        var watch = Stopwatch.StartNew();
        using var http = federation.Backend(Code);
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (request, ct) =>
        {
            var token = request.Anonymous ? null : request.Token ?? Admin();
            try
            {
                RawResponse response;
                try
                {
                    response = await RawRequests.SendAsync(http, request.Method, request.Path, request.ContentType, request.Body, token, ct);
                }
                catch (HttpRequestException)
                {
                    // A pooled connection the server closed after an earlier response (e.g. a 413 whose body it did not
                    // read) fails the next request sent on it before it reaches the server: that one is sent again, once.
                    Interlocked.Increment(ref resent);
                    response = await RawRequests.SendAsync(http, request.Method, request.Path, request.ContentType, request.Body, token, ct);
                }
                statuses.AddOrUpdate(response.Code, 1, (_, n) => n + 1);
                var violation = !request.RefusedByKestrel ? response.Violation()
                    : response.Code == 400 ? null : $"{response.Request} -> {response.Code}, expected Kestrel's own 400";
                if (violation is not null)
                {
                    violations.Add(violation);
                }
            }
            catch (HttpRequestException ex)
            {
                violations.Add($"{request.Method} {request.Path} [{request.ContentType}, {request.Body?.Length} bytes]: no answer twice ({ex.Message})");
            }
        });
        output.WriteLine($"{requests.Count} requests to {routes.Count} endpoints in {watch.Elapsed.TotalSeconds:F1} s ({resent} sent again); statuses: " +
            string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} x {s.Value}")));
        Assert.True(violations.IsEmpty, $"{violations.Count} of {requests.Count} responses break the rule:\n" + string.Join('\n', violations.Take(40)));

        // Still healthy and serving.
        using (var probe = federation.Backend(Code))
        {
            using var ready = await probe.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        using (var user = federation.Backend(Code, federation.Mint(Code, "after-battery-" + Guid.NewGuid().ToString("N")[..8])))
        {
            using var whoami = await user.GetAsync("/api/auth/whoami");
            Assert.Equal(HttpStatusCode.OK, whoami.StatusCode);
        }

        // A client's mistake is one warning line at most: no error and no stack trace in the backend's log.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var backendLines = federation.Logs.Lines.Skip(logLinesBefore).Where(l => l.Category.EndsWith(".backend-" + Code, StringComparison.Ordinal))
            .Select(l => l.Message).ToList();
        var traces = backendLines.Where(l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal)
            || l.TrimStart().StartsWith("at ", StringComparison.Ordinal)).Take(20).ToList();
        Assert.True(traces.Count == 0, "errors or stack traces in the backend's log:\n" + string.Join('\n', traces));
        Assert.True(backendLines.Count <= 2 * requests.Count, $"{backendLines.Count} log lines for {requests.Count} requests");
    }
}
