using System.Diagnostics;
using System.Net;
using DiveAspire.Cli.Tokens;
using DiveAspire.Topology;

namespace DiveAspire.Bench;

/// <summary>Measurements over HTTP against a running federation: revocation propagation and request throughput.</summary>
public static class HttpBenchmarks
{
    private static HttpClient Client(string code, string? token = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = AppHostProcess.BackendUri(code),
            Timeout = TimeSpan.FromSeconds(10),
        };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        }
        return client;
    }

    private static string Mint(AppHostProcess app, string user, string jti) =>
        DevTokenMinter.Mint(new DevTokenMinter.Request(NatoCatalog.Hub, user, Jti: jti, Ttl: TimeSpan.FromMinutes(30)), app.SigningKey);

    /// <param name="Ms">acknowledgement to ROU's 401, per revocation</param>
    /// <param name="RequestMs">one accepted request to ROU (the same call, before the logout): the floor of every sample</param>
    /// <param name="Requests">requests to ROU until it answered 401, per revocation</param>
    public sealed record Propagation(List<double> Ms, List<double> RequestMs, List<double> Requests);

    /// <summary>
    /// For each revocation: ROU accepts the token, USA acknowledges the logout, then ROU is asked again until it answers
    /// 401; the sample is the time from the acknowledgement to that 401.
    /// </summary>
    public static async Task<Propagation> PropagationAsync(AppHostProcess app, int count)
    {
        using var usa = Client("usa");
        using var rou = Client("rou");
        var result = new Propagation(new(count), new(count), new(count));
        for (var i = -20; i < count; i++) // 20 warm-up rounds
        {
            var jti = Guid.NewGuid().ToString();
            var token = Mint(app, $"bench-{Guid.NewGuid():N}", jti);
            var sent = Stopwatch.GetTimestamp();
            using (var before = await SendAsync(rou, HttpMethod.Get, "/api/auth/whoami", token))
            {
                var requestMs = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                if (before.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"ROU refused a fresh token: {(int)before.StatusCode}");
                }
                if (i >= 0)
                {
                    result.RequestMs.Add(requestMs);
                }
            }
            using (var logout = await SendAsync(usa, HttpMethod.Post, "/api/auth/logout", token))
            {
                if (logout.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"USA logout answered {(int)logout.StatusCode}");
                }
            }
            var acknowledged = Stopwatch.GetTimestamp();
            var requests = 0;
            while (true)
            {
                requests++;
                using var after = await SendAsync(rou, HttpMethod.Get, "/api/auth/whoami", token);
                if (after.StatusCode == HttpStatusCode.Unauthorized)
                {
                    break;
                }
                if (Stopwatch.GetElapsedTime(acknowledged) > TimeSpan.FromSeconds(5))
                {
                    throw new TimeoutException("ROU still accepted a revoked token after 5 s");
                }
            }
            if (i >= 0)
            {
                result.Ms.Add(Stopwatch.GetElapsedTime(acknowledged).TotalMilliseconds);
                result.Requests.Add(requests);
            }
        }
        return result;
    }

    /// <summary>Requests per second of authenticated GETs with <paramref name="workers"/> concurrent clients.</summary>
    public static async Task<double> ThroughputAsync(AppHostProcess app, string code, string path, TimeSpan duration, int workers = 16)
    {
        var token = Mint(app, $"load-{Guid.NewGuid():N}", Guid.NewGuid().ToString());
        using var client = Client(code, token);
        async Task<long> Worker(DateTime until)
        {
            long done = 0;
            while (DateTime.UtcNow < until)
            {
                using var response = await client.GetAsync(path);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"GET {path} on {code} answered {(int)response.StatusCode} during the load test");
                }
                done++;
            }
            return done;
        }
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Worker(DateTime.UtcNow.AddSeconds(1)))); // warm-up
        var watch = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Worker(DateTime.UtcNow.Add(duration))));
        return counts.Sum() / watch.Elapsed.TotalSeconds;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new("Bearer", token);
        return client.SendAsync(request);
    }
}
