using System.CommandLine;
using System.Globalization;
using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Operations;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Commands;

/// <summary><c>dive redis sentinel status | failover</c>: the shared revocation store run with HA (`./dive up --ha`).</summary>
internal static class RedisSentinelCommands
{
    public static Command Create(CliContext cli) =>
        new("sentinel", $"The HA revocation store (./dive up --ha): primary, replicas and the Sentinels of '{BlacklistHighAvailability.ServiceName}'") { Status(cli), Failover(cli) };

    private static Option<string?> Sentinels() =>
        new("--sentinels") { Description = "Ask these Sentinels (host:port,host:port,host:port) instead of the Topology's ports" };

    private static Command Status(CliContext cli)
    {
        var (sentinels, secrets, dryRun) = (Sentinels(), RedisOptions.Secrets(), RedisOptions.DryRun());
        var command = new Command("status", "Primary, replicas with replication lag, every Sentinel, quorum and last failover (exit 1 if a Sentinel or replica is missing or the quorum is lost)")
        {
            sentinels, secrets, dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(dryRun))
            {
                var planned = SentinelResolver.Resolve(parse.GetValue(sentinels));
                return DryRunReport.Write(cli, parse, [
                    .. planned.Sentinels.Select(s => RedisOptions.Reads(s, $"SENTINEL MASTER, REPLICAS and CKQUORUM {planned.ServiceName}")),
                    new("the primary the Sentinels name", $"connect as {RedisAcl.OperatorUser}, then INFO replication (read-only)"),
                ]);
            }
            var setup = SentinelResolver.Resolve(parse.GetValue(sentinels), RedisOptions.ParseSecrets(parse.GetValue(secrets)));
            var status = await SentinelOperations.StatusAsync(setup, ct);
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(status);
            }
            else
            {
                Write(cli, status);
            }
            return status.Healthy ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static Command Failover(CliContext cli)
    {
        var (sentinels, secrets, yes, dryRun) = (Sentinels(), RedisOptions.Secrets(), RedisOptions.Yes(), RedisOptions.DryRun());
        var command = new Command("failover", "Promote a replica now (SENTINEL FAILOVER, as admin) and wait for the new primary; asks first")
        {
            sentinels, secrets, yes, dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            var json = parse.GetValue(CliContext.JsonOption);
            if (parse.GetValue(dryRun))
            {
                var planned = SentinelResolver.Resolve(parse.GetValue(sentinels));
                return DryRunReport.Write(cli, parse, [
                    new(planned.Sentinels[0].ToString(), $"connect as {RedisAcl.AdminUser} with the password from {planned.Sentinels[0].AsAdmin().PasswordSource}, then SENTINEL FAILOVER {planned.ServiceName} (the next Sentinel if it does not answer)"),
                    new("every Sentinel", $"SENTINEL MASTER {planned.ServiceName} until all name one new primary that answers as primary (up to {SentinelOperations.FailoverWait.TotalSeconds:0} s)"),
                ]);
            }
            var setup = SentinelResolver.Resolve(parse.GetValue(sentinels), RedisOptions.ParseSecrets(parse.GetValue(secrets)));
            if (!parse.GetValue(yes)
                && !RedisOptions.Confirm(cli, $"This makes a replica the primary of the revocation store {setup.ServiceName}; revocations are refused (503) for a few seconds.", $"Refusing to fail over {setup.ServiceName} without confirmation"))
            {
                return ExitCodes.Failed;
            }
            var result = await SentinelOperations.FailoverAsync(setup, ct);
            if (json)
            {
                cli.WriteJson(result);
            }
            else
            {
                cli.Out.WriteLine($"Failed over {result.Service} in {result.Seconds.ToString("0.0", CultureInfo.InvariantCulture)} s (asked {result.AskedSentinel}): primary was {result.OldPrimary}, now {result.NewPrimary}.");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Write(CliContext cli, SentinelStatus s)
    {
        var p = s.Primary;
        cli.Out.WriteLine($"Sentinel service {s.Service} (quorum {s.Quorum})");
        cli.Out.WriteLine($"  primary     {p?.Name} ({p?.Endpoint}) {(p?.Reachable == true ? $"answers, {p.ConnectedReplicas} replicas connected, offset {p.ReplicationOffset}" : $"DOES NOT ANSWER: {p?.Error}")}");
        cli.Out.WriteLine($"  quorum      {(s.QuorumReachable ? "reachable" : "NOT REACHABLE")}: {s.QuorumMessage}");
        cli.Out.WriteLine($"  failovers   {(s.LastFailover is { EverFailedOver: true } f ? $"configuration epoch {f.ConfigEpoch}; the current primary has been primary for {(f.PrimarySinceSeconds is { } since ? RedisOperations.Duration(since) : "?")}" : "none since the store was created (configuration epoch 0)")}");
        cli.Out.WriteLine();
        cli.WriteTable(["REPLICA", "ENDPOINT", "ONLINE", "LINK", "LAG (S)", "LAG (BYTES)", "FLAGS"],
            s.Replicas.Select(r => (IReadOnlyList<string>)[
                r.Name, r.Endpoint, RedisOptions.YesNo(r.Online), r.LinkStatus ?? "-",
                r.LagSeconds?.ToString(CultureInfo.InvariantCulture) ?? "-", r.LagBytes?.ToString(CultureInfo.InvariantCulture) ?? "-", r.Flags]));
        cli.Out.WriteLine();
        cli.WriteTable(["SENTINEL", "ENDPOINT", "UP", "PRIMARY SEEN", "CKQUORUM"],
            s.Sentinels.Select(v => (IReadOnlyList<string>)[
                v.Name, v.Endpoint, RedisOptions.YesNo(v.Reachable), v.Primary ?? "-",
                v.Reachable ? (v.QuorumReachable == true ? "OK" : "NOQUORUM") : v.Error ?? "-"]));
        cli.Out.WriteLine($"{s.SentinelsReachable}/{s.Sentinels.Count} Sentinels up, {s.Replicas.Count(r => r.Online)} replicas online.");
        foreach (var problem in s.Problems)
        {
            cli.Out.WriteLine($"PROBLEM: {problem}");
        }
    }
}
