using System.Diagnostics;
using System.Globalization;
using DiveAspire.Cli.Connections;
using StackExchange.Redis;

namespace DiveAspire.Cli.Operations;

/// <summary>
/// The Sentinel operations behind `dive redis sentinel ...`, `dive redis health blacklist` (HA) and the dashboard
/// commands of redis-blacklist: every Sentinel is asked, the primary's INFO gives the replicas' lag.
/// </summary>
public static class SentinelOperations
{
    public static readonly TimeSpan FailoverWait = TimeSpan.FromSeconds(60);

    public static async Task<SentinelStatus> StatusAsync(SentinelSetup setup, CancellationToken ct = default)
    {
        var asked = await Task.WhenAll(setup.Sentinels.Select(s => AskAsync(setup, s, ct))).ConfigureAwait(false);
        var views = asked.Select(a => a.View).ToList();
        var problems = new List<string>();
        foreach (var down in views.Where(v => !v.Reachable))
        {
            problems.Add($"{down.Name} does not answer: {down.Error}");
        }
        var answered = asked.Where(a => a.View.Reachable).ToList();
        foreach (var partial in answered.Select(a => a.View).Where(v => v.KnownReplicas < setup.PlannedReplicas || v.KnownSentinels < setup.Sentinels.Count - 1))
        {
            problems.Add($"{partial.Name} knows {partial.KnownReplicas} of {setup.PlannedReplicas} replicas and {partial.KnownSentinels} of {setup.Sentinels.Count - 1} other Sentinels (discovery not complete: it could not take part in a failover)");
        }
        if (answered.Count == 0)
        {
            var errors = views.Select(v => v.Error!).Distinct().ToList();
            var hint = errors.All(e => e.Contains("unreachable", StringComparison.Ordinal)) ? " Is the store running with HA ('./dive up --ha')?" : "";
            throw new CliException($"No Sentinel of {setup.ServiceName} answers: {string.Join("; ", errors.Select(e => e.TrimEnd('.')))}.{hint}");
        }
        var primaries = answered.Select(a => a.View.Primary).Distinct().ToList();
        if (primaries.Count > 1)
        {
            problems.Add($"the Sentinels disagree on the primary ({string.Join(", ", answered.Select(a => $"{a.View.Name}: {a.View.Primary}"))})");
        }
        // The primary most Sentinels report; its details from the first of them.
        var majority = answered.GroupBy(a => a.View.Primary).OrderByDescending(g => g.Count()).First().First();
        var quorumOk = answered.Count >= setup.Quorum && answered.All(a => a.View.QuorumReachable == true);
        var quorumMessage = answered.Count < setup.Quorum
            ? $"{answered.Count} of {setup.Sentinels.Count} Sentinels answer, quorum is {setup.Quorum}"
            : answered.FirstOrDefault(a => a.View.QuorumReachable != true)?.View is { } failing
                ? $"{failing.Name}: {failing.QuorumMessage}"
                : majority.View.QuorumMessage ?? "";
        if (!quorumOk)
        {
            problems.Add($"quorum not reachable: {quorumMessage}");
        }

        var (primary, replicas) = await ReplicationAsync(setup, majority, ct).ConfigureAwait(false);
        if (!primary.Reachable)
        {
            problems.Add($"the primary {primary.Name} ({primary.Endpoint}) does not answer: {primary.Error}");
        }
        if (primary.Flags.Contains("down", StringComparison.Ordinal))
        {
            problems.Add($"the Sentinels flag the primary {primary.Name} as {primary.Flags}");
        }
        var online = replicas.Count(r => r.Online);
        if (online < setup.PlannedReplicas)
        {
            problems.Add($"{online} of {setup.PlannedReplicas} planned replicas are online");
        }
        foreach (var late in replicas.Where(r => r.Online && r.LagSeconds > setup.MaxReplicaLag.TotalSeconds))
        {
            problems.Add($"{late.Name} lags {late.LagSeconds} s behind the primary (limit {setup.MaxReplicaLag.TotalSeconds:0} s)");
        }
        return new SentinelStatus(setup.ServiceName, setup.Quorum, primary, replicas, views, quorumOk, quorumMessage, majority.History, problems);
    }

    /// <summary>
    /// Asks one Sentinel (as admin) to fail over now, then waits until every Sentinel that answers reports a new
    /// primary that answers as a primary. A refusal (no good replica, a failover already running) is one line, exit 1.
    /// </summary>
    public static async Task<FailoverResult> FailoverAsync(SentinelSetup setup, CancellationToken ct = default)
    {
        var errors = new List<string>();
        foreach (var sentinel in setup.Sentinels)
        {
            RedisTarget admin;
            ConnectionMultiplexer connection;
            IServer server;
            try
            {
                admin = sentinel.AsAdmin();
                (connection, server) = await SentinelConnector.ConnectAsync(admin, ct).ConfigureAwait(false);
            }
            catch (CliException ex)
            {
                errors.Add(ex.Message);
                continue;
            }
            await using (connection.ConfigureAwait(false))
            {
                var before = await PrimaryAddressAsync(server, admin, setup.ServiceName).ConfigureAwait(false);
                var clock = Stopwatch.StartNew();
                await SentinelConnector.SentinelAsync(server, admin, "FAILOVER", setup.ServiceName).ConfigureAwait(false);
                var after = await WaitForNewPrimaryAsync(setup, before, ct).ConfigureAwait(false);
                return new FailoverResult(setup.ServiceName, admin.ToString(), $"{setup.NodeName(before)} ({before})", $"{setup.NodeName(after)} ({after})", Math.Round(clock.Elapsed.TotalSeconds, 1), DryRun: false);
            }
        }
        throw new CliException($"No Sentinel of {setup.ServiceName} accepted the failover: {string.Join("; ", errors)}");
    }

    /// <summary>The two checks `dive redis health blacklist` adds with HA: replication (every planned replica online, lag within the limit) and quorum.</summary>
    public static async Task<IReadOnlyList<HealthCheck>> HealthChecksAsync(SentinelSetup setup, CancellationToken ct = default)
    {
        SentinelStatus status;
        try
        {
            status = await StatusAsync(setup, ct).ConfigureAwait(false);
        }
        catch (CliException ex)
        {
            return [new("replication", false, ex.Message), new("quorum", false, ex.Message)];
        }
        var online = status.Replicas.Where(r => r.Online).ToList();
        var lagging = online.Where(r => r.LagSeconds > setup.MaxReplicaLag.TotalSeconds).ToList();
        var replicationOk = status.Primary?.Reachable == true && online.Count >= setup.PlannedReplicas && lagging.Count == 0;
        var replicationDetail = status.Primary is not { Reachable: true } p
            ? $"the primary {status.Primary?.Name} does not answer"
            : $"primary {p.Name}, {online.Count} of {setup.PlannedReplicas} replicas online"
              + (online.Count == 0 ? "" : $" (lag {string.Join(", ", online.Select(r => $"{r.Name} {r.LagSeconds?.ToString(CultureInfo.InvariantCulture) ?? "?"} s / {r.LagBytes?.ToString(CultureInfo.InvariantCulture) ?? "?"} B"))})")
              + (lagging.Count == 0 ? "" : $", over the {setup.MaxReplicaLag.TotalSeconds:0} s limit: {string.Join(", ", lagging.Select(r => r.Name))}");
        var quorumDetail = $"{status.SentinelsReachable} of {status.Sentinels.Count} Sentinels answer (quorum {status.Quorum}): {status.QuorumMessage}";
        return [new("replication", replicationOk, replicationDetail), new("quorum", status.QuorumReachable, quorumDetail)];
    }

    private sealed record Asked(SentinelView View, Dictionary<string, string>? Master, IReadOnlyList<Dictionary<string, string>> Replicas, FailoverHistory? History);

    private static async Task<Asked> AskAsync(SentinelSetup setup, RedisTarget sentinel, CancellationToken ct)
    {
        try
        {
            var (connection, server) = await SentinelConnector.ConnectAsync(sentinel, ct).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var master = SentinelConnector.Fields(await SentinelConnector.SentinelAsync(server, sentinel, "MASTER", setup.ServiceName).ConfigureAwait(false));
                var replicas = SentinelConnector.List(await SentinelConnector.SentinelAsync(server, sentinel, "REPLICAS", setup.ServiceName).ConfigureAwait(false));
                var peers = SentinelConnector.List(await SentinelConnector.SentinelAsync(server, sentinel, "SENTINELS", setup.ServiceName).ConfigureAwait(false)).Count;
                bool quorum;
                string quorumMessage;
                try
                {
                    quorumMessage = (await server.ExecuteAsync("SENTINEL", "CKQUORUM", setup.ServiceName).ConfigureAwait(false)).ToString();
                    quorum = true;
                }
                catch (RedisServerException ex)
                {
                    // NOQUORUM ... is the answer, not a failure to ask.
                    quorumMessage = ex.Message;
                    quorum = false;
                }
                var primary = $"{master.GetValueOrDefault("ip")}:{master.GetValueOrDefault("port")}";
                var history = new FailoverHistory(Long(master, "config-epoch") ?? 0, Long(master, "role-reported-time") / 1000);
                return new Asked(new SentinelView(sentinel.Name, sentinel.Endpoint, true, primary, quorum, quorumMessage, master.GetValueOrDefault("flags"),
                    KnownReplicas: replicas.Count, KnownSentinels: peers), master, replicas, history);
            }
        }
        catch (CliException ex)
        {
            return new Asked(new SentinelView(sentinel.Name, sentinel.Endpoint, false, Error: ex.Message), null, [], null);
        }
    }

    private static async Task<(PrimaryStatus, IReadOnlyList<ReplicaStatus>)> ReplicationAsync(SentinelSetup setup, Asked view, CancellationToken ct)
    {
        var address = view.View.Primary!;
        var target = setup.DataNode(address);
        RedisInfo? info = null;
        string? error = null;
        try
        {
            await using var connection = await RedisConnector.ConnectAsync(target, ct).ConfigureAwait(false);
            var server = connection.GetServer(connection.GetEndPoints()[0]);
            info = RedisInfo.Parse(await RedisOperations.Guard(target, server.InfoRawAsync("replication")).WaitAsync(ct).ConfigureAwait(false) ?? "");
        }
        catch (CliException ex)
        {
            error = ex.Message;
        }
        var primaryOffset = info?.Long("master_repl_offset");
        // slaveN:ip=127.0.0.1,port=6480,state=online,offset=123,lag=0 on the primary, by replica address.
        var seenByPrimary = info is null ? [] : Enumerable.Range(0, (int)info.Long("connected_slaves"))
            .Select(i => info.String($"slave{i}"))
            .OfType<string>()
            .Select(line => line.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]))
            // Two replicas announcing one address (a misconfiguration) must not crash the status: first one wins.
            .GroupBy(f => $"{f.GetValueOrDefault("ip")}:{f.GetValueOrDefault("port")}")
            .ToDictionary(g => g.Key, g => g.First());
        var replicas = view.Replicas.Select(r =>
        {
            var endpoint = $"{r.GetValueOrDefault("ip")}:{r.GetValueOrDefault("port")}";
            var flags = r.GetValueOrDefault("flags") ?? "";
            var offset = Long(r, "slave-repl-offset");
            seenByPrimary.TryGetValue(endpoint, out var fromPrimary);
            var lagSeconds = fromPrimary is null ? null : Long(fromPrimary, "lag");
            var ackedOffset = fromPrimary is null ? offset : Long(fromPrimary, "offset");
            var online = fromPrimary?.GetValueOrDefault("state") == "online" && !flags.Contains("down", StringComparison.Ordinal) && !flags.Contains("disconnected", StringComparison.Ordinal);
            return new ReplicaStatus(setup.NodeName(endpoint), endpoint, flags, r.GetValueOrDefault("master-link-status"), ackedOffset,
                primaryOffset is { } po && ackedOffset is { } ro ? Math.Max(0, po - ro) : null, lagSeconds, online);
        }).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        var primary = new PrimaryStatus(setup.NodeName(address), address, view.View.Flags ?? "", info is not null && info.String("role") == "master",
            primaryOffset, info?.Long("connected_slaves"), error ?? (info is not null && info.String("role") != "master" ? $"it answers as {info.String("role")}" : null));
        return (primary, replicas);
    }

    private static async Task<string> PrimaryAddressAsync(IServer server, RedisTarget sentinel, string service)
    {
        var reply = (RedisResult[])(await SentinelConnector.SentinelAsync(server, sentinel, "GET-MASTER-ADDR-BY-NAME", service).ConfigureAwait(false))!;
        return reply is { Length: 2 } ? $"{reply[0]}:{reply[1]}" : throw new CliException($"{sentinel} does not know the service {service}.");
    }

    /// <summary>Until every answering Sentinel names one primary other than <paramref name="before"/> and that node answers as a primary.</summary>
    private static async Task<string> WaitForNewPrimaryAsync(SentinelSetup setup, string before, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        var last = "";
        while (deadline.Elapsed < FailoverWait)
        {
            ct.ThrowIfCancellationRequested();
            var asked = await Task.WhenAll(setup.Sentinels.Select(s => AskAsync(setup, s, ct))).ConfigureAwait(false);
            var primaries = asked.Where(a => a.View.Reachable).Select(a => a.View.Primary!).Distinct().ToList();
            if (primaries is [var after] && after != before && await AnswersAsPrimaryAsync(setup.DataNode(after), ct).ConfigureAwait(false))
            {
                return after;
            }
            last = string.Join(", ", primaries);
            await Task.Delay(250, ct).ConfigureAwait(false);
        }
        throw new CliException($"The Sentinels accepted the failover of {setup.ServiceName} but report no new primary after {FailoverWait.TotalSeconds:0} s (last seen: {last}); see 'dive redis sentinel status'.");
    }

    private static async Task<bool> AnswersAsPrimaryAsync(RedisTarget node, CancellationToken ct)
    {
        try
        {
            await using var connection = await RedisConnector.ConnectAsync(node, ct).ConfigureAwait(false);
            var server = connection.GetServer(connection.GetEndPoints()[0]);
            var info = RedisInfo.Parse(await RedisOperations.Guard(node, server.InfoRawAsync("replication")).ConfigureAwait(false) ?? "");
            return info.String("role") == "master";
        }
        catch (CliException)
        {
            return false;
        }
    }

    private static long? Long(IReadOnlyDictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
