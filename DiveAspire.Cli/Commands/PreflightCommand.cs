using System.CommandLine;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Commands;

/// <summary><c>dive preflight</c>: run by <c>./dive up</c> before starting, so a busy port is named before anything starts.</summary>
public static class PreflightCommand
{
    public static Command Create(CliContext cli)
    {
        var spokes = new Option<string?>("--spokes") { Description = "Comma-separated spoke codes (default: every spoke in instances/)" };
        var monitoring = new Option<bool>("--monitoring") { Description = "Also check the monitoring ports", DefaultValueFactory = _ => true };
        var ha = new Option<bool>("--ha") { Description = "The shared store runs highly available (replicas and Sentinels): check their ports too" };
        var command = new Command("preflight", "Check that the port plan has no collisions and that every planned host port is free") { spokes, monitoring, ha };
        command.SetAction(parse =>
        {
            var topology = CliContext.LoadTopology(parse.GetValue(spokes));
            var allocations = PortPlan.Allocate(topology, new PortPlanOptions(Monitoring: parse.GetValue(monitoring), HighAvailability: parse.GetValue(ha)));
            PortPlan.EnsureNoCollisions(allocations);

            var busy = allocations.Where(a => !PortOwners.IsFree(a.Port))
                .Select(a => new { a.Owner, a.Service, a.Port, Process = PortOwners.Describe(a.Port) })
                .ToList();
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(new { ok = busy.Count == 0, checkedPorts = allocations.Count, busy });
                return busy.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
            }
            if (busy.Count == 0)
            {
                cli.Out.WriteLine($"Preflight: {allocations.Count} planned host ports are free ({string.Join(", ", topology.Instances.Select(i => i.Code))}).");
                return ExitCodes.Ok;
            }
            foreach (var b in busy)
            {
                cli.Error.WriteLine($"Port {b.Port} ({b.Owner}/{b.Service}) is already in use by {b.Process ?? "another process"}.");
                if (b.Process?.StartsWith("redis-server", StringComparison.Ordinal) == true)
                {
                    cli.Error.WriteLine("  A Debian redis-server service usually holds 6379: stop it with 'sudo systemctl stop redis-server' (or 'sudo service redis-server stop'; 'sudo pkill redis-server' where there is no service manager).");
                }
                else if (b.Process is { } p && p.Contains("DiveAspire", StringComparison.Ordinal))
                {
                    cli.Error.WriteLine("  Another DiveAspire AppHost is running: stop it first.");
                }
            }
            return ExitCodes.Failed;
        });
        return command;
    }
}
