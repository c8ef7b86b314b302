using System.CommandLine;
using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Operations;

namespace DiveAspire.Cli.Commands;

/// <summary><c>dive redis rate-limits show | reset</c>, through the backend's admin endpoints.</summary>
internal static class RedisRateLimitCommands
{
    public static Command Create(CliContext cli) =>
        new("rate-limits", "Rate limiting of one backend (store, limits, active keys) and per-IP reset") { Show(cli), Reset(cli) };

    private static Command Show(CliContext cli)
    {
        var (instance, endpoint, token, dryRun) = (InstanceArgument(), RedisOptions.Endpoint("Backend"), RedisOptions.Token(), RedisOptions.DryRun());
        var command = new Command("show", "Store in use, limits per limiter, active keys per limiter and the clients (user, ip) holding them") { instance, endpoint, token, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            var (name, backend) = Backend(parse, instance, endpoint, token, needToken: !parse.GetValue(dryRun));
            using (backend)
            {
                if (parse.GetValue(dryRun))
                {
                    return DryRunReport.Write(cli, parse, [new(name, "GET /api/admin/rate-limits with an admin token (read-only)")]);
                }
                var report = await backend.RateLimitsAsync(ct);
                if (parse.GetValue(CliContext.JsonOption))
                {
                    cli.WriteJson(report);
                    return ExitCodes.Ok;
                }
                cli.Out.WriteLine($"Rate limits of {name} (instance {report.Instance}, store {report.Store})");
                var limiters = report.Limits.Keys.Union(report.ActiveKeys.Keys).Order(StringComparer.Ordinal);
                cli.WriteTable(["LIMITER", "MAX", "WINDOW", "ACTIVE KEYS"], limiters.Select(l => (IReadOnlyList<string>)[
                    l,
                    report.Limits.TryGetValue(l, out var limit) ? limit.Max.ToString() : "-",
                    limit is null ? "-" : $"{limit.WindowSeconds}s",
                    report.ActiveKeys.TryGetValue(l, out var active) ? active.ToString() : "0"]));
                var clients = RateLimitClient.From(report);
                if (clients.Count > 0)
                {
                    cli.Out.WriteLine("Clients with a live window:");
                    foreach (var client in clients)
                    {
                        cli.Out.WriteLine($"  limiter: {client.Limiter,-7} user: {client.User ?? "-"}  ip: {client.Ip}");
                    }
                }
                return ExitCodes.Ok;
            }
        });
        return command;
    }

    private static Command Reset(CliContext cli)
    {
        var ip = new Argument<string>("ip") { Description = "The client IP whose rate-limit budget to restore (IPv4 or IPv6)" };
        var (instance, endpoint, token, dryRun) = (InstanceArgument(), RedisOptions.Endpoint("Backend"), RedisOptions.Token(), RedisOptions.DryRun());
        var command = new Command("reset", "Delete one IP's rate-limit keys on one backend (prints how many)") { ip, instance, endpoint, token, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            var text = parse.GetValue(ip);
            if (!IpAddressText.TryNormalize(text, out var address))
            {
                throw new CliException($"ip: '{text}' is not an IP address (expected {DiveAspire.Topology.StrictIpAddress.Expected}).", ExitCodes.Usage);
            }
            var (name, backend) = Backend(parse, instance, endpoint, token, needToken: !parse.GetValue(dryRun));
            using (backend)
            {
                if (parse.GetValue(dryRun))
                {
                    if (parse.GetValue(CliContext.JsonOption))
                    {
                        cli.WriteJson(new { ip = address, backend = name, dryRun = true });
                    }
                    else
                    {
                        cli.Out.WriteLine($"Dry run: would reset the rate limits of {address} on {name}. Nothing was changed.");
                    }
                    return ExitCodes.Ok;
                }
                var result = await backend.ResetRateLimitAsync(address, ct);
                if (parse.GetValue(CliContext.JsonOption))
                {
                    cli.WriteJson(result);
                }
                else
                {
                    cli.Out.WriteLine($"Reset rate limits of {result.Ip} on {name}: {result.KeysDeleted} keys deleted.");
                }
                return ExitCodes.Ok;
            }
        });
        return command;
    }

    private static Argument<string> InstanceArgument() =>
        new("instance") { Description = "Instance code of the backend (default usa)", DefaultValueFactory = _ => "usa" };

    private static (string Name, BackendOperations Backend) Backend(ParseResult parse, Argument<string> instance, Option<string?> endpoint, Option<string?> token, bool needToken = true)
    {
        var topology = CliContext.LoadTopology();
        var definition = topology.Get(parse.GetValue(instance)!);
        var uri = ConnectionResolver.Backend(definition, parse.GetValue(endpoint));
        var bearer = needToken ? AdminToken.Resolve(topology, parse.GetValue(token)) : "";
        return ($"{definition.BackendResourceName} ({uri.GetLeftPart(UriPartial.Authority)})", new BackendOperations(definition.BackendResourceName, uri, bearer));
    }
}
