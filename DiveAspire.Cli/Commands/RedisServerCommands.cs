using System.CommandLine;
using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Operations;
using DiveAspire.Topology;
using static DiveAspire.Cli.Operations.RedisOperations;

namespace DiveAspire.Cli.Commands;

/// <summary><c>dive redis status | status-all | health | stats | flush</c>.</summary>
internal static class RedisServerCommands
{
    public static Command Status(CliContext cli)
    {
        var (instance, endpoint, secrets, dryRun) = (RedisOptions.Instance(), RedisOptions.Endpoint(), RedisOptions.Secrets(), RedisOptions.DryRun());
        var command = new Command("status", "Show one Redis: reachable, version, role, uptime, memory, clients, keys, AOF, last error") { instance, endpoint, secrets, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(dryRun))
            {
                return DryRunReport.Write(cli, parse, [RedisOptions.Reads(RedisOptions.Planned(parse, instance, endpoint), "INFO")]);
            }
            var status = await StatusAsync(RedisOptions.Target(parse, instance, endpoint, secrets), ct);
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(status);
                return ExitCodes.Ok;
            }
            cli.Out.WriteLine($"{status.Name} ({status.Endpoint})");
            foreach (var (field, value) in Fields(status))
            {
                cli.Out.WriteLine($"  {field,-11} {value}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command StatusAll(CliContext cli)
    {
        var (spokes, secrets, dryRun) = (RedisOptions.Spokes(), RedisOptions.Secrets(), RedisOptions.DryRun());
        var command = new Command("status-all", "One table for the shared store, the hub and every spoke in instances/ (exit 1 if any is unreachable)") { spokes, secrets, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            var topology = CliContext.LoadTopology(parse.GetValue(spokes));
            if (parse.GetValue(dryRun))
            {
                return DryRunReport.Write(cli, parse, [.. topology.RedisStores.Select(spec => RedisOptions.Reads(ConnectionResolver.Redis(spec), "INFO"))]);
            }
            var source = RedisOptions.ParseSecrets(parse.GetValue(secrets));
            var targets = topology.RedisStores.Select(spec => ConnectionResolver.Redis(spec, null, source)).ToList();
            var rows = await Task.WhenAll(targets.Select(t => StatusOrErrorAsync(t, ct)));
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(new { redis = rows, reachable = rows.Count(r => r.Reachable), total = rows.Length });
            }
            else
            {
                cli.WriteTable(
                    ["REDIS", "ENDPOINT", "UP", "VERSION", "ROLE", "UPTIME", "MEMORY USED/MAX", "CLIENTS", "KEYS", "AOF", "LAST ERROR"],
                    rows.Select(r => (IReadOnlyList<string>)[
                        r.Name, r.Endpoint, RedisOptions.YesNo(r.Reachable), r.Version ?? "-", r.Role ?? "-",
                        r.UptimeSeconds is { } up ? Duration(up) : "-",
                        r.UsedMemoryBytes is { } used ? $"{Bytes(used)} / {(r.MaxMemoryBytes is > 0 ? Bytes(r.MaxMemoryBytes.Value) : "unbounded")}" : "-",
                        r.Clients?.ToString() ?? "-", r.Keys?.ToString() ?? "-", r.Aof is { } aof ? (aof ? "on" : "off") : "-",
                        r.LastError ?? "-"]));
                cli.Out.WriteLine($"{rows.Count(r => r.Reachable)}/{rows.Length} reachable.");
            }
            return rows.All(r => r.Reachable) ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    public static Command Health(CliContext cli)
    {
        var (instance, endpoint, secrets, dryRun) = (RedisOptions.Instance(), RedisOptions.Endpoint(), RedisOptions.Secrets(), RedisOptions.DryRun());
        var command = new Command("health", "Check ping, memory < 80% of maxmemory, clients < maxclients, AOF on, password required, eviction policy, ACL; the shared store with HA also replication and Sentinel quorum (exit 0 only if all pass)")
        {
            instance, endpoint, secrets, dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(dryRun))
            {
                var planned = RedisOptions.Planned(parse, instance, endpoint);
                List<DryRunStep> steps = [RedisOptions.Reads(planned, "PING, INFO"), new(planned.ToString(), "a second connection sends PING without a password (expects NOAUTH)")];
                if (HighAvailability(planned) is { } ha)
                {
                    steps.AddRange(ha.Sentinels.Select(s => RedisOptions.Reads(s, $"SENTINEL MASTER, REPLICAS and CKQUORUM {ha.ServiceName}")));
                    steps.Add(new("the primary the Sentinels name", $"connect as {RedisAcl.OperatorUser}, then INFO replication (read-only)"));
                }
                return DryRunReport.Write(cli, parse, steps);
            }
            var target = RedisOptions.Target(parse, instance, endpoint, secrets);
            var health = await HealthAsync(target, ct, HighAvailability(target, RedisOptions.ParseSecrets(parse.GetValue(secrets))));
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(new { health.Name, health.Endpoint, health.Checks, health.Passed, health.Total, health.Healthy });
            }
            else
            {
                cli.Out.WriteLine($"Health of {health.Name} ({health.Endpoint})");
                foreach (var check in health.Checks)
                {
                    cli.Out.WriteLine($"  [{(check.Passed ? "PASS" : "FAIL")}] {check.Name,-9} {check.Detail}");
                }
                cli.Out.WriteLine($"Checks passed: {health.Passed}/{health.Total}");
            }
            return health.Healthy ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    public static Command Stats(CliContext cli)
    {
        var (instance, endpoint, secrets, dryRun) = (RedisOptions.Instance(), RedisOptions.Endpoint(), RedisOptions.Secrets(), RedisOptions.DryRun());
        var command = new Command("stats", "Connections, commands, keyspace hits/misses and hit rate, memory breakdown") { instance, endpoint, secrets, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(dryRun))
            {
                return DryRunReport.Write(cli, parse, [RedisOptions.Reads(RedisOptions.Planned(parse, instance, endpoint), "INFO")]);
            }
            var s = await StatsAsync(RedisOptions.Target(parse, instance, endpoint, secrets), ct);
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(s);
                return ExitCodes.Ok;
            }
            cli.Out.WriteLine($"Stats of {s.Name} ({s.Endpoint})");
            cli.Out.WriteLine($"  Connections  {s.ConnectedClients} connected, {s.BlockedClients} blocked, {s.TotalConnectionsReceived} received, {s.RejectedConnections} rejected");
            cli.Out.WriteLine($"  Commands     {s.TotalCommandsProcessed} processed, {s.OpsPerSecond} ops/s now");
            cli.Out.WriteLine($"  Keyspace     {s.Keys} keys, {s.KeyspaceHits} hits, {s.KeyspaceMisses} misses, hit rate {(s.HitRatePercent is { } rate ? $"{rate:0.00}%" : "n/a (no lookups yet)")}");
            cli.Out.WriteLine($"               {s.ExpiredKeys} expired, {s.EvictedKeys} evicted");
            var m = s.Memory;
            cli.Out.WriteLine($"  Memory       used {Bytes(m.UsedBytes)} (dataset {Bytes(m.DatasetBytes)}, overhead {Bytes(m.OverheadBytes)}), rss {Bytes(m.RssBytes)}, peak {Bytes(m.PeakBytes)}");
            cli.Out.WriteLine($"               max {(m.MaxBytes > 0 ? Bytes(m.MaxBytes) : "unbounded")}, policy {m.EvictionPolicy}, fragmentation {m.FragmentationRatio:0.00}");
            // The INFO field names, as the original plan's scripts grep them.
            cli.Out.WriteLine($"connected_clients: {s.ConnectedClients}");
            cli.Out.WriteLine($"keyspace_hits: {s.KeyspaceHits}");
            cli.Out.WriteLine($"keyspace_misses: {s.KeyspaceMisses}");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Flush(CliContext cli)
    {
        var (instance, endpoint, secrets) = (RedisOptions.RequiredInstance(), RedisOptions.Endpoint(), RedisOptions.Secrets());
        var (yes, dryRun) = (RedisOptions.Yes(), RedisOptions.DryRun());
        var command = new Command("flush", "Delete every key of ONE instance's Redis (asks first; not for the shared store: see 'blacklist clear')")
        {
            instance, endpoint, secrets, yes, dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            var target = RedisOptions.Target(parse, instance, endpoint, secrets);
            EnsureNotRevocationStore(target.Spec);
            var json = parse.GetValue(CliContext.JsonOption);
            var preview = await FlushAsync(target, dryRun: true, ct);
            if (parse.GetValue(dryRun))
            {
                if (json)
                {
                    cli.WriteJson(preview);
                }
                else
                {
                    cli.Out.WriteLine($"Dry run: would delete {preview.KeysBefore} keys from {target}. Nothing was changed.");
                }
                return ExitCodes.Ok;
            }
            if (!parse.GetValue(yes)
                && !RedisOptions.Confirm(cli, $"This deletes all {preview.KeysBefore} keys of {target}.", $"Refusing to flush {target.Name} without confirmation"))
            {
                return ExitCodes.Failed;
            }
            var result = await FlushAsync(target, dryRun: false, ct);
            if (json)
            {
                cli.WriteJson(result);
            }
            else
            {
                cli.Out.WriteLine($"Flushed {target}: {result.KeysBefore - result.KeysAfter} keys deleted, {result.KeysAfter} left.");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The Sentinel setup to check too: only for the shared store, and only when it runs with HA.</summary>
    private static SentinelSetup? HighAvailability(RedisTarget target, SecretsSource secrets = SecretsSource.Local) =>
        target.Spec.Kind == RedisKind.TokenStore && SentinelResolver.HighAvailabilityOn() ? SentinelResolver.Resolve(secrets: secrets) : null;

    private static IEnumerable<(string, string)> Fields(RedisStatus s) =>
    [
        ("reachable", RedisOptions.YesNo(s.Reachable)),
        ("user", s.User ?? "-"),
        ("version", s.Version ?? "-"),
        ("role", s.Role ?? "-"),
        ("uptime", s.UptimeSeconds is { } up ? Duration(up) : "-"),
        ("memory", $"{Bytes(s.UsedMemoryBytes ?? 0)} / {(s.MaxMemoryBytes is > 0 ? Bytes(s.MaxMemoryBytes.Value) : "unbounded")}"),
        ("clients", $"{s.Clients} / {s.MaxClients}"),
        ("keys", s.Keys?.ToString() ?? "-"),
        ("aof", s.Aof == true ? "on" : "off"),
        ("eviction", s.EvictionPolicy ?? "-"),
        ("last error", s.LastError ?? "-"),
    ];
}
