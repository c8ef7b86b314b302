using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using DiveAspire.Backend.Redis;
using DiveAspire.Backend.Revocation;
using DiveAspire.Cli;
using DiveAspire.Cli.Tokens;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Xunit.Abstractions;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// A backend started while no Sentinel of its HA shared store answers (not started yet, or hung), or while a data node
/// the Sentinels name is hung: the real backend binary against real redis-server and redis-sentinel processes
/// (<see cref="SentinelStoreProcesses"/>).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(SentinelClientCollection.Name)]
public sealed class SentinelStartupTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_backend_started_while_no_Sentinel_answers_stays_up_and_becomes_ready_once_they_answer()
    {
        using var store = new SentinelStoreProcesses();
        using var cache = new PlainRedisServer(password: true, aof: false);
        var sentinels = Enumerable.Range(0, store.SentinelPorts.Length).Select(store.SentinelProcessId).ToList();
        try
        {
            foreach (var pid in sentinels)
            {
                Assert.True(LocalProcesses.Signal(pid, UnixSignal.Stop), $"Sentinel pid {pid} was not running");
            }
            var before = EstablishedTo(store.SentinelPorts);
            using var backend = Backend(store, cache);
            // The kernel completes the connections to a stopped Sentinel: once they are there, the backend is trying them.
            await HttpAssertions.EventuallyAsync(() => Task.FromResult(backend.HasExited || EstablishedTo(store.SentinelPorts) > before),
                Ready, "the backend to connect to the stopped Sentinels");
            // Its Sentinel connection gives up after 3 attempts of 1 s, a synchronous command on it after 1 s more: well within this.
            var until = DateTime.UtcNow.AddSeconds(12);
            while (!backend.HasExited && DateTime.UtcNow < until)
            {
                await Task.Delay(250);
            }
            Assert.False(backend.HasExited, $"the backend died while no Sentinel answered:\n{Tail(backend)}");

            foreach (var pid in sentinels)
            {
                LocalProcesses.Signal(pid, UnixSignal.Cont);
            }
            await ReadyAndLiveAsync(backend, store);
        }
        finally
        {
            foreach (var pid in sentinels)
            {
                LocalProcesses.Signal(pid, UnixSignal.Cont);
            }
        }
    }

    /// <summary>
    /// The Sentinels give no majority for longer than the discovery timeout (2 s here, 60 s by default): the backend
    /// stays up and serves as during a store outage (live, not ready, tokens refused with 503, its own Redis in use),
    /// and once the Sentinels answer again it connects, resynchronises and becomes ready without a restart.
    /// </summary>
    [Fact]
    public async Task A_backend_whose_Sentinels_give_no_majority_past_the_discovery_timeout_serves_as_in_an_outage_and_joins_when_they_agree()
    {
        const int discoverySeconds = 2;
        using var store = new SentinelStoreProcesses();
        using var cache = new PlainRedisServer(password: true, aof: false);
        var sentinels = Enumerable.Range(0, store.SentinelPorts.Length).Select(store.SentinelProcessId).ToList();
        var signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        try
        {
            foreach (var pid in sentinels)
            {
                Assert.True(LocalProcesses.Signal(pid, UnixSignal.Stop), $"Sentinel pid {pid} was not running");
            }
            using var backend = Backend(store, cache, ("Dive__Auth__DevSigningKey", signingKey), (SentinelPrimary.DiscoverySecondsKey.Replace(":", "__"), $"{discoverySeconds}"));
            await HttpAssertions.EventuallyAsync(async () => backend.HasExited || await AnswersAsync(backend, "/health/live") == HttpStatusCode.OK,
                Ready, "the backend to answer /health/live");
            Assert.False(backend.HasExited, $"the backend exited while the Sentinels were stopped:\n{Tail(backend)}");
            // Well past the discovery timeout, and past the Sentinel connection's own attempts (1 s each).
            var until = DateTime.UtcNow.AddSeconds(discoverySeconds * 4 + 4);
            while (!backend.HasExited && DateTime.UtcNow < until)
            {
                await Task.Delay(250);
            }
            Assert.False(backend.HasExited, $"the backend exited while the Sentinels gave no majority:\n{Tail(backend)}");
            Assert.Equal(HttpStatusCode.OK, await AnswersAsync(backend, "/health/live"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await AnswersAsync(backend, "/health/ready"));
            var user = $"waiting-{Guid.NewGuid():N}";
            var token = DevTokenMinter.Mint(new(NatoCatalog.Hub, user), signingKey);
            using (var whoami = await SendAsync(backend, HttpMethod.Get, "/api/auth/whoami", token))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, whoami.StatusCode);
                Assert.Contains(RevocationCheckMiddleware.NeverSynchronised, await whoami.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            // Its own Redis serves as in any shared-store outage: /health/redis has the cache up and the shared store down.
            using (var redis = await backend.Http.GetAsync("/health/redis"))
            {
                var details = (await redis.JsonAsync()).GetProperty("details");
                Assert.Equal("up", details.GetProperty("cache").GetProperty("status").GetString());
                Assert.Equal("down", details.GetProperty("blacklist").GetProperty("status").GetString());
            }
            var lines = backend.Output.Split('\n');
            var waiting = Array.FindIndex(lines, l => l.Contains("Sentinels agreed on its primary within", StringComparison.Ordinal));
            Assert.True(waiting > 0, $"no warning that the Sentinels gave no majority:\n{Tail(backend)}");
            // The simple console formatter writes the category line first, then the message.
            output.WriteLine($"{lines[waiting - 1]}\n{lines[waiting]}");
            Assert.Contains("still waiting", lines[waiting], StringComparison.Ordinal);
            Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));

            foreach (var pid in sentinels)
            {
                LocalProcesses.Signal(pid, UnixSignal.Cont);
            }
            await ReadyAndLiveAsync(backend, store);
            // A revocation written through it is acknowledged (on the primary, and by a replica: WAIT 1) and enforced.
            using (var logout = await SendAsync(backend, HttpMethod.Post, "/api/auth/logout", token))
            {
                Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
            }
            using var primary = store.ConnectAdmin(0);
            Assert.True(await primary.GetDatabase().KeyExistsAsync(RevocationKeys.Key(RevocationKind.User, user)), "the revocation is on the primary");
            using (var refused = await SendAsync(backend, HttpMethod.Get, "/api/auth/whoami", token))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            }
            Assert.DoesNotContain(backend.Output.Split('\n'), l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var pid in sentinels)
            {
                LocalProcesses.Signal(pid, UnixSignal.Cont);
            }
        }
    }

    [Fact]
    public async Task A_backend_started_while_a_replica_the_Sentinels_name_is_hung_becomes_ready()
    {
        using var store = new SentinelStoreProcesses();
        using var cache = new PlainRedisServer(password: true, aof: false);
        var replica = store.NodeProcessId(2);
        try
        {
            Assert.True(LocalProcesses.Signal(replica, UnixSignal.Stop), $"replica pid {replica} was not running");
            // Its data-node connections (the integration's and the revocation writes') include the hung replica.
            using var backend = Backend(store, cache);
            await ReadyAndLiveAsync(backend, store);
            Assert.Contains(backend.Output.Split('\n'), l => l.Contains("data nodes", StringComparison.Ordinal) && l.Contains($":{store.NodePorts[2]}", StringComparison.Ordinal));
        }
        finally
        {
            LocalProcesses.Signal(replica, UnixSignal.Cont);
        }
    }

    private static BackendProcess Backend(SentinelStoreProcesses store, PlainRedisServer cache, params (string Key, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__cache"] = $"{cache.Endpoint},user={RedisAcl.AdminUser},password={cache.Password}{RedisAcl.ClientOptions}",
            // 1 s instead of the default 5 s per connect attempt to a Sentinel: the start gets past it sooner.
            ["ConnectionStrings__blacklist"] = store.BackendConnectionString() + ",connectTimeout=1000",
        };
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }
        return new(environment);
    }

    private static async Task<HttpStatusCode?> AnswersAsync(BackendProcess backend, string path)
    {
        try
        {
            using var response = await backend.Http.GetAsync(path);
            return response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(BackendProcess backend, HttpMethod method, string path, string token)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (method == HttpMethod.Post)
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }
        return await backend.Http.SendAsync(request);
    }

    private static async Task ReadyAndLiveAsync(BackendProcess backend, SentinelStoreProcesses store)
    {
        try
        {
            await backend.WaitReadyAsync(Ready);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n--- the backend's last lines:\n{Tail(backend)}");
        }
        using var live = await backend.Http.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.DoesNotContain(store.Passwords, p => backend.Output.Contains(p, StringComparison.Ordinal));
    }

    /// <summary>From the backend's unhandled exception on (its message and innermost frames), else its last lines.</summary>
    private static string Tail(BackendProcess backend)
    {
        var lines = backend.Output.Split('\n');
        var crash = Array.FindIndex(lines, l => l.Contains("Unhandled exception", StringComparison.Ordinal));
        return string.Join('\n', crash >= 0 ? lines.Skip(crash).Take(20) : lines.TakeLast(25));
    }

    /// <summary>Established TCP connections whose local end is one of <paramref name="ports"/> (the servers' side).</summary>
    private static int EstablishedTo(IEnumerable<int> ports)
    {
        var servers = ports.ToHashSet();
        return PortOwners.TcpSockets().Count(s => s.State == "01" && servers.Contains(s.LocalPort));
    }
}
