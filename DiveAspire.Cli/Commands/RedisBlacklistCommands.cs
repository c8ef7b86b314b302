using System.CommandLine;
using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Operations;

namespace DiveAspire.Cli.Commands;

/// <summary><c>dive redis blacklist status | sync | clear</c>: the federation's shared revocation store.</summary>
internal static class RedisBlacklistCommands
{
    public static Command Create(CliContext cli) =>
        new("blacklist", "The shared token-revocation store (redis-blacklist)") { Status(cli), Sync(cli), Clear(cli) };

    private static Command Status(CliContext cli)
    {
        var (endpoint, secrets, spokes, dryRun) = (RedisOptions.Endpoint(), RedisOptions.Secrets(), RedisOptions.Spokes(), RedisOptions.DryRun());
        var command = new Command("status", "Revoked tokens and users (counted with SCAN), subscribers per channel, which backends are subscribed")
        {
            endpoint, secrets, spokes, dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            var topology = CliContext.LoadTopology(parse.GetValue(spokes));
            if (parse.GetValue(dryRun))
            {
                var planned = ConnectionResolver.Redis(topology.Blacklist, parse.GetValue(endpoint));
                return DryRunReport.Write(cli, parse, [RedisOptions.Reads(planned, $"SCAN {BlacklistOperations.TokenKeyPattern} and {BlacklistOperations.UserKeyPattern}, PUBSUB NUMSUB, CLIENT LIST")]);
            }
            var target = ConnectionResolver.Redis(topology.Blacklist, parse.GetValue(endpoint), RedisOptions.ParseSecrets(parse.GetValue(secrets)));
            var status = await BlacklistOperations.StatusAsync(target, topology.Instances.Select(i => i.Code), ct);
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(status);
                return ExitCodes.Ok;
            }
            cli.Out.WriteLine($"Shared revocation store {target}: reachable");
            cli.Out.WriteLine($"  revoked tokens ({BlacklistOperations.TokenKeyPattern})     {status.RevokedTokens}");
            cli.Out.WriteLine($"  revoked users  ({BlacklistOperations.UserKeyPattern})  {status.RevokedUsers}");
            foreach (var (channel, count) in status.Subscribers)
            {
                cli.Out.WriteLine($"  subscribers on {channel,-24} {count}");
            }
            cli.WriteTable(["BACKEND", "CLIENT NAME", "CONNECTED", "SUBSCRIBED"],
                status.Backends.Select(b => (IReadOnlyList<string>)[b.Instance, b.ClientName, RedisOptions.YesNo(b.Connected), RedisOptions.YesNo(b.Subscribed)]));
            // The original plan's check greps this line: how many backends listen for revocations.
            cli.Out.WriteLine($"connected: {status.Backends.Count(b => b.Subscribed)}");
            foreach (var impostor in status.Impostors)
            {
                cli.Out.WriteLine($"WARNING: a client at {impostor.Address} calls itself {impostor.ClientName} but is logged in as '{impostor.User}': not counted as that backend.");
            }
            if (status.Backends.FirstOrDefault(b => !b.Subscribed) is not null)
            {
                cli.Out.WriteLine("A backend that is not subscribed learns of revocations only at its next sync (see docs/CLI-GUIDE.md, 'subscriber missing').");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Sync(CliContext cli)
    {
        var (spokes, token, dryRun) = (RedisOptions.Spokes(), RedisOptions.Token(), RedisOptions.DryRun());
        var command = new Command("sync", "Ask every backend to reload its local revocation cache from the shared store; prints each one's counts")
        {
            spokes, token, dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            var topology = CliContext.LoadTopology(parse.GetValue(spokes));
            if (parse.GetValue(dryRun))
            {
                return DryRunReport.Write(cli, parse, [.. topology.Instances.Select(i => new DryRunStep(
                    $"{i.BackendResourceName} ({ConnectionResolver.Backend(i).GetLeftPart(UriPartial.Authority)})", "POST /api/blacklist/sync with an admin token"))]);
            }
            var bearer = AdminToken.Resolve(topology, parse.GetValue(token));
            var outcomes = await Task.WhenAll(topology.Instances.Select(async instance =>
            {
                try
                {
                    using var backend = new BackendOperations(instance.BackendResourceName, ConnectionResolver.Backend(instance), bearer);
                    return (instance.Code, Result: await backend.SyncBlacklistAsync(ct), Error: (string?)null);
                }
                catch (CliException ex)
                {
                    return (instance.Code, Result: (BlacklistSyncResult?)null, Error: ex.Message);
                }
            }));
            var errors = outcomes.Where(o => o.Error is not null).Select(o => new { instance = o.Code, error = o.Error }).ToList();
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(new { results = outcomes.Where(o => o.Result is not null).Select(o => o.Result), errors });
            }
            else
            {
                cli.WriteTable(["INSTANCE", "TOKENS", "USERS", "ERROR"], outcomes.Select(o => (IReadOnlyList<string>)[
                    o.Result?.Instance ?? o.Code, o.Result?.Tokens.ToString() ?? "-", o.Result?.Users.ToString() ?? "-", o.Error ?? "-"]));
                cli.Out.WriteLine($"{outcomes.Length - errors.Count}/{outcomes.Length} backends synchronised.");
            }
            return errors.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static Command Clear(CliContext cli)
    {
        var (endpoint, secrets, yes, dryRun) = (RedisOptions.Endpoint(), RedisOptions.Secrets(), RedisOptions.Yes(), RedisOptions.DryRun());
        var command = new Command("clear", "Delete every revocation (blacklist:*, user-revoked:*) from the shared store; nothing else is touched")
        {
            endpoint, secrets, yes, dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            var topology = CliContext.LoadTopology();
            var target = ConnectionResolver.Redis(topology.Blacklist, parse.GetValue(endpoint), RedisOptions.ParseSecrets(parse.GetValue(secrets)));
            var json = parse.GetValue(CliContext.JsonOption);
            var preview = await BlacklistOperations.ClearAsync(target, dryRun: true, ct);
            if (parse.GetValue(dryRun))
            {
                if (json)
                {
                    cli.WriteJson(preview);
                }
                else
                {
                    cli.Out.WriteLine($"Dry run: would delete {preview.TokensDeleted} revoked tokens and {preview.UsersDeleted} revoked users from {target}. Nothing was changed.");
                }
                return ExitCodes.Ok;
            }
            if (!parse.GetValue(yes) && !RedisOptions.Confirm(cli,
                    $"This un-revokes {preview.TokensDeleted} tokens and {preview.UsersDeleted} users federation-wide ({target}).",
                    "Refusing to clear the revocation store without confirmation"))
            {
                return ExitCodes.Failed;
            }
            var result = await BlacklistOperations.ClearAsync(target, dryRun: false, ct);
            if (json)
            {
                cli.WriteJson(result);
            }
            else
            {
                cli.Out.WriteLine($"Cleared {target}: {result.TokensDeleted} revoked tokens and {result.UsersDeleted} revoked users deleted. Run 'dive redis blacklist sync' so backends drop their local copies.");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
