using System.CommandLine;
using DiveAspire.Cli.Operations;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Commands;

/// <summary><c>dive hub status | verify</c>: the hub's 10-point verification (read-only).</summary>
internal static class HubCommands
{
    public static Command Create(CliContext cli) =>
        new("hub", "The hub: its 10-point verification (Redis, shared store, subscriptions, backend, monitoring)") { Status(cli), Verify(cli) };

    private static Command Status(CliContext cli) =>
        Build(cli, "status", "The hub's 10 checks, read-only (same as 'verify'); exit 0 only when all pass");

    private static Command Verify(CliContext cli) =>
        Build(cli, "verify", "The hub's 10-point verification (see docs/CLI-GUIDE.md); exit 0 only when all pass");

    private static Command Build(CliContext cli, string name, string description)
    {
        var (spokes, secrets, dryRun, allowSkipped) = (RedisOptions.RunningSpokes(), RedisOptions.Secrets(), RedisOptions.DryRun(), VerificationOutput.AllowSkipped());
        var prometheus = RedisMonitoringCommands.UrlOption();
        var command = new Command(name, description) { spokes, secrets, prometheus, allowSkipped, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            var topology = CliContext.LoadTopology(parse.GetValue(spokes) ?? PsCommand.RunningSpokes());
            var prometheusUrl = RedisMonitoringCommands.PrometheusUrl(parse.GetValue(prometheus));
            if (parse.GetValue(dryRun))
            {
                return DryRunReport.Write(cli, parse, [.. HubVerification.CheckNames.Select((check, i) => new DryRunStep($"check {i + 1}", check)),
                    new("targets", $"redis-{topology.Hub.Code.ToLowerInvariant()}, redis-blacklist, {topology.Hub.BackendResourceName}, Prometheus at {prometheusUrl.GetLeftPart(UriPartial.Authority)}; read-only")]);
            }
            var report = await HubVerification.RunAsync(topology, RedisOptions.ParseSecrets(parse.GetValue(secrets)), prometheusUrl, ct);
            return VerificationOutput.Write(cli, parse, [report], parse.GetValue(allowSkipped));
        });
        return command;
    }
}
