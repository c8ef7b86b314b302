using System.CommandLine;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Commands;

/// <summary><c>dive instances</c> (deployed instances and their ports) and <c>dive ports</c> (the full port plan).</summary>
public static class InstancesCommands
{
    public static Command Instances(CliContext cli)
    {
        var all = new Option<bool>("--all") { Description = "List the whole catalog (32 NATO members and 6 partners), not only instances/" };
        var command = new Command("instances", "List the deployed instances (instances/) with offsets and ports") { all };
        command.SetAction(parse =>
        {
            var json = parse.GetValue(CliContext.JsonOption);
            var topology = CliContext.LoadTopology();
            var deployed = topology.Instances.ToDictionary(i => i.Code);
            var countries = parse.GetValue(all) ? NatoCatalog.All : topology.Instances.Select(i => i.Country).ToList();
            var rows = countries.Select(c => new
            {
                code = c.Code,
                name = c.Name,
                membership = c.Membership.ToString().ToLowerInvariant(),
                role = deployed.TryGetValue(c.Code, out var d) ? d.RoleName : "-",
                offset = c.Offset,
                backendPort = PortPlan.Backend(c),
                redisPort = PortPlan.Redis(c),
                keycloakHttpsPort = PortPlan.KeycloakHttps(c),
                locale = c.Locale,
                timeZone = c.TimeZone,
                natoJoinYear = c.NatoJoinYear,
            }).ToList();
            if (json)
            {
                cli.WriteJson(new { instances = rows, blacklistRedisPort = PortPlan.BlacklistRedis });
                return ExitCodes.Ok;
            }
            cli.WriteTable(
                ["CODE", "NAME", "ROLE", "OFFSET", "BACKEND", "REDIS", "KEYCLOAK", "LOCALE", "TIMEZONE", "NATO"],
                rows.Select(r => (IReadOnlyList<string>)[r.code, r.name, r.role, r.offset.ToString(), r.backendPort.ToString(), r.redisPort.ToString(),
                    r.keycloakHttpsPort.ToString(), r.locale, r.timeZone, r.natoJoinYear?.ToString() ?? "partner"]));
            cli.Out.WriteLine($"Shared revocation store (redis-blacklist): port {PortPlan.BlacklistRedis}; with --ha also replicas " +
                $"{PortPlan.BlacklistReplica1}, {PortPlan.BlacklistReplica2} and Sentinels {PortPlan.BlacklistSentinel1}-{PortPlan.BlacklistSentinel3}");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Ports(CliContext cli)
    {
        var all = new Option<bool>("--all-services") { Description = "Show every service formula of the original (frontend, OPA, KAS, ...) and their collisions" };
        var command = new Command("ports", "Show the port plan for instances/ (with the --ha replicas and Sentinels of the shared store) and check it for collisions") { all };
        command.SetAction(parse =>
        {
            var json = parse.GetValue(CliContext.JsonOption);
            var topology = CliContext.LoadTopology();
            var allocations = parse.GetValue(all)
                ? topology.Instances.SelectMany(i => PortPlan.AllServices(i.Country)).ToList()
                : PortPlan.Allocate(topology, new PortPlanOptions(Monitoring: true, Grafana: true, HighAvailability: true));
            var collisions = PortPlan.FindCollisions(allocations);
            if (json)
            {
                cli.WriteJson(new { ports = allocations, collisions = collisions.Select(c => c.ToString()) });
            }
            else
            {
                cli.WriteTable(["OWNER", "SERVICE", "PORT"], allocations.OrderBy(a => a.Port).Select(a => (IReadOnlyList<string>)[a.Owner, a.Service, a.Port.ToString()]));
                cli.Out.WriteLine(collisions.Count == 0 ? "No port collisions." : "Collisions:\n  " + string.Join("\n  ", collisions));
            }
            return collisions.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }
}
