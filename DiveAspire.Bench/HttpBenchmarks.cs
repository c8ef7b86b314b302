using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiveAspire.Cli.Tokens;
using DiveAspire.Topology;

namespace DiveAspire.Bench;

/// <summary>Revocation propagation measured over HTTP against a running federation (throughput: <see cref="ThroughputBenchmarks"/>, with wrk).</summary>
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

    /// <param name="Ms">USA's acknowledgement (when the client got it) to ROU's cache holding the revocation; 0 when ROU held it first</param>
    /// <param name="FromRevokedAtMs">USA's revokedAt (taken before its durable write to the store) to ROU's cache holding it</param>
    /// <param name="AcknowledgeMs">USA's revokedAt to the client having the acknowledgement (the durable write and the response)</param>
    /// <param name="ClientMs">USA's acknowledgement, as the client got it, to the client's request that ROU answered with 401</param>
    /// <param name="RequestMs">one accepted request to ROU (the same call, before the logout): the floor of a client sample</param>
    /// <param name="Requests">requests to ROU until it answered 401, per revocation</param>
    /// <param name="PubSubMs">one raw pub/sub round trip right before each revocation (the baseline, same machine state)</param>
    public sealed record Propagation(List<double> Ms, List<double> FromRevokedAtMs, List<double> AcknowledgeMs, List<double> ClientMs, List<double> RequestMs,
        List<double> Requests, List<double> PubSubMs)
    {
        /// <summary>Revocations ROU already held when the acknowledgement arrived (their sample is 0).</summary>
        public int HeldBeforeAck => Ms.Count(ms => ms == 0);
    }

    /// <summary>
    /// For each revocation: ROU accepts the token, USA acknowledges the logout, then ROU is asked again until it answers
    /// 401. Propagation itself is timed without that request: from the moment the client had USA's acknowledgement
    /// to the moment ROU's cache held the revocation (ROU reports it as rejectedHereSince). The bench and ROU read the
    /// same host clock. The client's own view (acknowledgement to the 401, one HTTP request included) is kept too.
    /// </summary>
    public static async Task<Propagation> PropagationAsync(AppHostProcess app, PubSubBaseline pubSub, int count, TimeSpan pause)
    {
        using var usa = Client("usa");
        using var rou = Client("rou");
        using var observer = Client("rou", Mint(app, $"bench-observer-{Guid.NewGuid():N}", Guid.NewGuid().ToString()));
        var result = new Propagation(new(count), new(count), new(count), new(count), new(count), new(count), new(count));
        for (var i = -20; i < count; i++) // 20 warm-up rounds
        {
            if (i >= 0)
            {
                result.PubSubMs.Add(await pubSub.RoundTripMsAsync()); // the baseline, from the state the revocation starts in
            }
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
            DateTimeOffset revokedAt, acknowledgedAt;
            using (var logout = await SendAsync(usa, HttpMethod.Post, "/api/auth/logout", token))
            {
                acknowledgedAt = DateTimeOffset.UtcNow;
                if (logout.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"USA logout answered {(int)logout.StatusCode}");
                }
                revokedAt = (await logout.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revokedAt").GetDateTimeOffset();
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
            var clientMs = Stopwatch.GetElapsedTime(acknowledged).TotalMilliseconds;
            var check = await observer.GetFromJsonAsync<JsonElement>($"/api/auth/check-blacklist/{jti}");
            if (check.GetProperty("rejectedHereSince").ValueKind != JsonValueKind.String)
            {
                throw new InvalidOperationException($"ROU answered 401 but its cache does not hold the revocation: {check}");
            }
            if (i >= 0)
            {
                var heldSince = check.GetProperty("rejectedHereSince").GetDateTimeOffset();
                result.Ms.Add(Math.Max(0, (heldSince - acknowledgedAt).TotalMilliseconds));
                result.FromRevokedAtMs.Add((heldSince - revokedAt).TotalMilliseconds);
                result.AcknowledgeMs.Add((acknowledgedAt - revokedAt).TotalMilliseconds);
                result.ClientMs.Add(clientMs);
                result.Requests.Add(requests);
            }
            // Revocations are events, not a stream: each starts after the federation has finished with the last one
            // (every backend refines its expiry and drops the user's cached decisions).
            await Task.Delay(pause);
        }
        return result;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new("Bearer", token);
        return client.SendAsync(request);
    }
}
