using System.CommandLine;
using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Operations;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Commands;

/// <summary><c>dive spoke status | status-all | verify | verify-federation</c>.</summary>
internal static class SpokeCommands
{
    public static Command Create(CliContext cli) =>
        new("spoke", "The spokes: status (read-only) and verification against the hub (a hub token, a hub revocation)")
        {
            Status(cli), StatusAll(cli), Verify(cli), VerifyFederation(cli),
        };

    private static Command Status(CliContext cli)
    {
        var (code, secrets, token, dryRun) = (SpokeArgument(), RedisOptions.Secrets(), RedisOptions.Token(), RedisOptions.DryRun());
        var command = new Command("status", "One spoke, read-only: Redis reachable, password, AOF, eviction, backend ready, subscribed, limiter on Redis") { code, secrets, token, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            var (topology, spoke) = Spoke(parse, code);
            if (parse.GetValue(dryRun))
            {
                return Plan(cli, parse, [spoke], [.. SpokeVerification.StatusCheckNames, .. SpokeVerification.FederationCheckNames[..2]], "read-only");
            }
            var report = await SpokeVerification.StatusAsync(topology, spoke, RedisOptions.ParseSecrets(parse.GetValue(secrets)), parse.GetValue(token), ct);
            return VerificationOutput.Write(cli, parse, [report]);
        });
        return command;
    }

    private static Command StatusAll(CliContext cli)
    {
        var (spokes, secrets, token, dryRun) = (RedisOptions.RunningSpokes(), RedisOptions.Secrets(), RedisOptions.Token(), RedisOptions.DryRun());
        var command = new Command("status-all", "Every spoke in instances/ (or --spokes), read-only: one line per spoke; exit 1 if one is not fine") { spokes, secrets, token, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            var topology = CliContext.LoadTopology(parse.GetValue(spokes) ?? PsCommand.RunningSpokes());
            if (parse.GetValue(dryRun))
            {
                return Plan(cli, parse, topology.Spokes, [.. SpokeVerification.StatusCheckNames, .. SpokeVerification.FederationCheckNames[..2]], "read-only");
            }
            var source = RedisOptions.ParseSecrets(parse.GetValue(secrets));
            var reports = await Task.WhenAll(topology.Spokes.Select(s => SpokeVerification.StatusAsync(topology, s, source, parse.GetValue(token), ct)));
            var ok = reports.All(r => r.AllPassed);
            if (parse.GetValue(CliContext.JsonOption))
            {
                return VerificationOutput.Write(cli, parse, reports);
            }
            cli.WriteTable(["SPOKE", "PASSED", "NOT PASSED", "FIRST PROBLEM"], reports.Select(r =>
            {
                var problems = r.Checks.Where(c => c.Outcome != VerificationCheck.Pass).ToList();
                return (IReadOnlyList<string>)[
                    r.Subject["spoke ".Length..], $"{r.Passed}/{r.Checks.Count}",
                    problems.Count == 0 ? "-" : string.Join(",", problems.Select(c => c.Number)),
                    problems.Count == 0 ? "-" : $"{problems[0].Name}: {problems[0].Detail}"];
            }));
            cli.Out.WriteLine($"{reports.Count(r => r.AllPassed)}/{reports.Length} spokes fine.");
            return ok ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static Command Verify(CliContext cli)
    {
        var (code, secrets, token, dryRun) = (SpokeArgument(), RedisOptions.Secrets(), RedisOptions.Token(), RedisOptions.DryRun());
        var command = new Command("verify", "Every check of one spoke, including a hub token accepted on it and a hub revocation enforced on it within 1 s (then deleted)")
        {
            code, secrets, token, dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            var (topology, spoke) = Spoke(parse, code);
            if (parse.GetValue(dryRun))
            {
                return Plan(cli, parse, [spoke], [.. SpokeVerification.StatusCheckNames, .. SpokeVerification.FederationCheckNames], RevocationNote(topology));
            }
            var report = await SpokeVerification.VerifyAsync(topology, spoke, RedisOptions.ParseSecrets(parse.GetValue(secrets)), parse.GetValue(token), ct);
            return VerificationOutput.Write(cli, parse, [report]);
        });
        return command;
    }

    private static Command VerifyFederation(CliContext cli)
    {
        var (spokes, secrets, token, dryRun) = (RedisOptions.RunningSpokes(), RedisOptions.Secrets(), RedisOptions.Token(), RedisOptions.DryRun());
        var command = new Command("verify-federation", "For every spoke: subscribed, limiter on Redis, a hub token accepted, a hub revocation enforced within 1 s (then deleted)")
        {
            spokes, secrets, token, dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            var topology = CliContext.LoadTopology(parse.GetValue(spokes) ?? PsCommand.RunningSpokes());
            if (parse.GetValue(dryRun))
            {
                return Plan(cli, parse, topology.Spokes, SpokeVerification.FederationCheckNames, RevocationNote(topology));
            }
            if (topology.Spokes.Count == 0)
            {
                throw new CliException("No spoke to verify (instances/ or --spokes names none).", ExitCodes.Usage);
            }
            var source = RedisOptions.ParseSecrets(parse.GetValue(secrets));
            // One spoke after the other: each times a revocation, which concurrent ones would slow down.
            var reports = new List<VerificationReport>();
            foreach (var spoke in topology.Spokes)
            {
                reports.Add(await SpokeVerification.FederationAsync(topology, spoke, source, parse.GetValue(token), ct));
            }
            return VerificationOutput.Write(cli, parse, reports);
        });
        return command;
    }

    private static Argument<string> SpokeArgument() => new("spoke") { Description = "Spoke instance code (ISO3, e.g. rou)" };

    private static (DiveTopology Topology, InstanceDefinition Spoke) Spoke(ParseResult parse, Argument<string> code)
    {
        var topology = CliContext.LoadTopology();
        var spoke = topology.Get(parse.GetValue(code)!);
        if (spoke.Role != InstanceRole.Spoke)
        {
            throw new CliException($"{spoke.Code} is the hub: use 'dive hub verify'.", ExitCodes.Usage);
        }
        return (topology, spoke);
    }

    private static string RevocationNote(DiveTopology topology) =>
        $"signs a throwaway {topology.Hub.Code} development token, revokes it on {topology.Hub.BackendResourceName}, then deletes blacklist:<its jti> from redis-blacklist";

    private static int Plan(CliContext cli, ParseResult parse, IEnumerable<InstanceDefinition> spokes, IReadOnlyList<string> checks, string note) =>
        DryRunReport.Write(cli, parse, [.. spokes.SelectMany(s => checks.Select((check, i) => new DryRunStep(
            $"{s.Code} ({s.BackendResourceName} {ConnectionResolver.Backend(s).GetLeftPart(UriPartial.Authority)}, redis-{s.Code.ToLowerInvariant()})", $"{i + 1}. {check}"))),
            new("all", note)]);
}
