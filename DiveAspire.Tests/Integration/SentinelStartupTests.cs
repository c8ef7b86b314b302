using System.Net;
using DiveAspire.Cli;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// A backend started while no Sentinel of its HA shared store answers (not started yet, or hung), or while a data node
/// the Sentinels name is hung: the real backend binary against real redis-server and redis-sentinel processes
/// (<see cref="SentinelStoreProcesses"/>).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(SentinelClientCollection.Name)]
public sealed class SentinelStartupTests
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

    private static BackendProcess Backend(SentinelStoreProcesses store, PlainRedisServer cache) => new(new Dictionary<string, string>
    {
        ["ConnectionStrings__cache"] = $"{cache.Endpoint},user={RedisAcl.AdminUser},password={cache.Password}{RedisAcl.ClientOptions}",
        // 1 s instead of the default 5 s per connect attempt to a Sentinel: the start gets past it sooner.
        ["ConnectionStrings__blacklist"] = store.BackendConnectionString() + ",connectTimeout=1000",
    });

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
