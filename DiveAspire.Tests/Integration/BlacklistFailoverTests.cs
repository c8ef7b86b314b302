using System.Net;
using Aspire.Hosting.ApplicationModel;
using DiveAspire.Cli;
using Microsoft.IdentityModel.JsonWebTokens;
using Xunit.Abstractions;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// Issue 14 on real processes: while three backends revoke concurrently, the shared store's primary is killed (-9) or
/// hung (SIGSTOP, then SIGCONT), or a replica dies. Afterwards every acknowledged revocation is in the store and
/// enforced by every backend, revocation works again without anyone restarting a backend, and the lost node is a
/// replica of the new primary (no split brain). Failover times are measured and printed, not asserted (a loaded
/// 2-core machine); `./dive bench` measures them. Each test leaves the topology steady, so the order does not matter.
/// </summary>
[Collection(BlacklistHaCollection.Name)]
public sealed class BlacklistFailoverTests(BlacklistHaFixture federation, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Kill_9_of_the_primary_fails_over_loses_no_acknowledged_revocation_and_the_old_primary_rejoins_as_replica()
    {
        var primary = await SteadyPrimaryAsync();
        var pid = await federation.ProcessIdAsync(primary);
        await using (var revokers = new ConcurrentRevokers(federation))
        {
            var killed = false;
            try
            {
                await WarmUpAsync(revokers);
                var fault = revokers.Now;
                Assert.True(LocalProcesses.Signal(pid, UnixSignal.Kill), $"{primary} (pid {pid}) was not running");
                killed = true;
                await ResumedAsync(revokers, fault, primary, "kill -9");
            }
            finally
            {
                if (killed)
                {
                    await federation.StartAgainAsync(primary, KnownResourceCommands.StartCommand, Deadline);
                }
            }
            await AssertNothingLostAsync(revokers);
        }
        await AssertSteadyAsync($"{primary} restarted after kill -9");
        var newPrimary = await federation.PrimaryAsync();
        Assert.NotEqual(primary, newPrimary);
        await AssertTheCliFollowsThePrimaryAsync(newPrimary!);
    }

    /// <summary>`dive redis ... blacklist` (and the dashboard commands) reach the primary the Sentinels name, not redis-blacklist's port.</summary>
    private async Task AssertTheCliFollowsThePrimaryAsync(string primary)
    {
        var sentinels = new List<string>();
        foreach (var sentinel in federation.Ha.Sentinels)
        {
            var (host, port) = await federation.RedisEndpointAsync(sentinel.ResourceName);
            sentinels.Add($"{host}:{port}");
        }
        var spec = federation.Topology.Blacklist;
        using var env = new Cli.EnvironmentScope()
            .Set(DiveAspire.Cli.Connections.SentinelPrimaryResolver.SentinelsVariable, string.Join(',', sentinels))
            .Set(DiveAspire.Cli.Connections.ConnectionResolver.RedisEndpointVariable(spec), null)
            .Set(DiveAspire.Topology.RedisAcl.Operator(spec).PasswordEnvironmentVariable, federation.Secrets.For(DiveAspire.Topology.RedisAcl.Operator(spec)));
        var target = DiveAspire.Cli.Connections.ConnectionResolver.Redis(spec);
        Assert.Equal((await federation.RedisEndpointAsync(primary)).Port, target.Port);
    }

    [Fact]
    public async Task A_hung_primary_is_replaced_and_after_SIGCONT_rejoins_as_replica_without_split_brain()
    {
        var primary = await SteadyPrimaryAsync();
        var pid = await federation.ProcessIdAsync(primary);
        await using (var revokers = new ConcurrentRevokers(federation))
        {
            var stopped = false;
            try
            {
                await WarmUpAsync(revokers);
                var fault = revokers.Now;
                Assert.True(LocalProcesses.Signal(pid, UnixSignal.Stop), $"{primary} (pid {pid}) was not running");
                stopped = true;
                await ResumedAsync(revokers, fault, primary, "SIGSTOP");
            }
            finally
            {
                if (stopped)
                {
                    LocalProcesses.Signal(pid, UnixSignal.Cont);
                }
            }
            // The deposed primary resumes believing it is primary: it must refuse writes (no replica acknowledges it)
            // until the Sentinels make it a replica, and revocation goes on meanwhile.
            var resumed = revokers.Now;
            await EventuallyAsync(async () => await federation.RoleAsync(primary) is { Role: "slave", LinkState: "up" }, $"{primary} a replica again after SIGCONT", Deadline);
            await EventuallyAsync(() => Task.FromResult(revokers.AcknowledgedAfter(resumed) >= 3), "revocations acknowledged after SIGCONT", Deadline);
            await AssertNothingLostAsync(revokers);
        }
        await AssertSteadyAsync($"{primary} resumed after SIGSTOP");
        Assert.Equal(pid, await federation.ProcessIdAsync(primary));
    }

    [Fact]
    public async Task Losing_one_replica_keeps_revocation_going_and_the_replica_rejoins()
    {
        var primary = await SteadyPrimaryAsync();
        var replica = federation.DataNodeNames.First(n => n != primary);
        var pid = await federation.ProcessIdAsync(replica);
        await using (var revokers = new ConcurrentRevokers(federation))
        {
            var killed = false;
            try
            {
                await WarmUpAsync(revokers);
                var fault = revokers.Now;
                Assert.True(LocalProcesses.Signal(pid, UnixSignal.Kill), $"{replica} (pid {pid}) was not running");
                killed = true;
                await EventuallyAsync(() => Task.FromResult(revokers.AcknowledgedAfter(fault + TimeSpan.FromSeconds(1)) >= 10), "revocations acknowledged with one replica left", Deadline);
                output.WriteLine($"replica {replica} killed: {revokers.Refused.Count(r => r >= fault)} logouts refused after, primary still {await federation.PrimaryAsync()}");
                Assert.Equal(primary, await federation.PrimaryAsync());
            }
            finally
            {
                if (killed)
                {
                    await federation.StartAgainAsync(replica, KnownResourceCommands.StartCommand, Deadline);
                }
            }
            await AssertNothingLostAsync(revokers);
        }
        await AssertSteadyAsync($"{replica} restarted");
    }

    [Fact]
    public async Task A_primary_without_any_replica_acknowledges_nothing_and_takes_revocations_again_when_they_return()
    {
        var primary = await SteadyPrimaryAsync();
        var replicas = federation.DataNodeNames.Where(n => n != primary).ToList();
        var pids = new List<int>();
        foreach (var replica in replicas)
        {
            pids.Add(await federation.ProcessIdAsync(replica));
        }
        await using (var revokers = new ConcurrentRevokers(federation))
        {
            TimeSpan cut;
            try
            {
                await WarmUpAsync(revokers);
                foreach (var pid in pids)
                {
                    Assert.True(LocalProcesses.Signal(pid, UnixSignal.Stop), $"replica pid {pid} was not running");
                }
                cut = revokers.Now;
                // WAIT finds no replica at once (min-replicas-to-write would only refuse after its 5 s lag): every
                // logout sent from then on is a 503, none is acknowledged.
                await EventuallyAsync(() => Task.FromResult(revokers.Refused.Count(r => r >= cut) >= 6), "logouts refused without replicas", Deadline);
                Assert.Equal(0, revokers.AcknowledgedAfter(cut + TimeSpan.FromMilliseconds(100)));
            }
            finally
            {
                foreach (var pid in pids)
                {
                    LocalProcesses.Signal(pid, UnixSignal.Cont);
                }
            }
            var back = revokers.Now;
            await EventuallyAsync(() => Task.FromResult(revokers.AcknowledgedAfter(back) >= 3), "revocations acknowledged once the replicas are back", Deadline);
            output.WriteLine($"without replicas: {revokers.Refused.Count(r => r >= cut)} logouts refused; acknowledged again {revokers.FirstAcknowledgedAfter(back)?.TotalSeconds:F1} s after SIGCONT");
            await AssertNothingLostAsync(revokers);
        }
        await AssertSteadyAsync("replicas resumed");
        Assert.Equal(primary, await federation.PrimaryAsync());
    }

    private async Task<string> SteadyPrimaryAsync()
    {
        await AssertSteadyAsync("before the drill");
        return (await federation.PrimaryAsync())!;
    }

    private async Task AssertSteadyAsync(string when) =>
        await EventuallyAsync(federation.SteadyAsync, $"one primary and two replicas with their link up ({when})", Deadline, pollMs: 500);

    private static async Task WarmUpAsync(ConcurrentRevokers revokers)
    {
        await EventuallyAsync(() => Task.FromResult(revokers.Acknowledged.Count >= 9), "revocations acknowledged before the fault", Deadline);
        Assert.Empty(revokers.Refused);
    }

    /// <summary>Revocations are acknowledged again (measured and printed) and the Sentinels name another primary.</summary>
    private async Task ResumedAsync(ConcurrentRevokers revokers, TimeSpan fault, string oldPrimary, string what)
    {
        await WithLogsAsync(() => EventuallyAsync(() => Task.FromResult(revokers.AcknowledgedAfter(fault) >= 3), $"revocations acknowledged again after {what} of the primary", Deadline));
        var newPrimary = await federation.PrimaryAsync();
        output.WriteLine($"{what} of {oldPrimary}: revocations acknowledged again after {revokers.FirstAcknowledgedAfter(fault)?.TotalSeconds:F1} s " +
            $"(target 10 s), {revokers.Refused.Count(r => r >= fault)} refused (503) meanwhile; new primary {newPrimary}");
        Assert.NotEqual(oldPrimary, newPrimary);
    }

    /// <summary>A failed wait says why: the last log lines of the Sentinels, the data nodes and one backend.</summary>
    private async Task WithLogsAsync(Func<Task> wait)
    {
        try
        {
            await wait();
        }
        catch (Xunit.Sdk.XunitException ex)
        {
            var names = federation.Ha.ResourceNames.Append("backend-usa");
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n" + string.Join('\n', names.Select(n => $"--- {n}:\n{federation.RecentLogs(n, 25)}")));
        }
    }

    /// <summary>Every acknowledged logout is in the store (its primary) and refused by every backend.</summary>
    private async Task AssertNothingLostAsync(ConcurrentRevokers revokers)
    {
        Assert.Empty(revokers.Unexpected);
        var primary = (await federation.PrimaryAsync())!;
        await using var store = await federation.ConnectAsync(primary);
        var db = store.GetDatabase();
        var lost = new List<string>();
        foreach (var (token, _) in revokers.Acknowledged)
        {
            if (!await db.KeyExistsAsync($"blacklist:{new JsonWebToken(token).Id}"))
            {
                lost.Add(new JsonWebToken(token).Id);
            }
        }
        output.WriteLine($"{revokers.Acknowledged.Count} logouts acknowledged, {revokers.Refused.Count} refused, {lost.Count} acknowledged and lost");
        Assert.Empty(lost);
        foreach (var code in ConcurrentRevokers.Backends)
        {
            await EventuallyAsync(async () =>
            {
                foreach (var (token, _) in revokers.Acknowledged)
                {
                    if (await WhoAmIAsync(federation, code, token) != HttpStatusCode.Unauthorized)
                    {
                        return false;
                    }
                }
                return true;
            }, $"every acknowledged revocation refused by backend-{code}", Deadline, pollMs: 1000);
        }
    }
}
