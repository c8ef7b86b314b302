using System.CommandLine;
using DiveAspire.Cli.Connections;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Commands;

/// <summary>Options and helpers shared by the `dive redis` commands.</summary>
internal static class RedisOptions
{
    public static Option<string?> Endpoint(string what = "Redis") =>
        new("--endpoint") { Description = what == "Redis" ? "Connect to host:port instead of the Topology's port" : $"{what} URL instead of the Topology's port (http://host:port)" };

    public static Option<string> Secrets()
    {
        var option = new Option<string>("--secrets") { Description = "Where Redis passwords come from after REDIS_PASSWORD_<CODE>: local (AppHost user secrets) or gcp (gcloud)", DefaultValueFactory = _ => "local" };
        option.AcceptOnlyFromAmong("local", "gcp");
        return option;
    }

    public static Option<string?> Token() =>
        new("--token") { Description = "Admin bearer token for the backends (default: DIVE_ADMIN_TOKEN, else a dev token from the AppHost's signing key)" };

    public static Option<bool> Yes() => new("--yes", "-y") { Description = "Do it without asking for confirmation" };

    public static Option<bool> DryRun() => new("--dry-run") { Description = "Show what would change, change nothing" };

    public static Option<string?> RunningSpokes() =>
        new("--spokes") { Description = "Only these spokes (comma-separated codes; default: the spokes the running app runs, else every spoke in instances/)" };

    public static Option<string?> Spokes() =>
        new("--spokes") { Description = "Only these spokes (comma-separated codes; default: every spoke in instances/)" };

    public static Argument<string> Instance(string defaultCode = "usa") =>
        new("instance") { Description = "Instance code (ISO3, e.g. usa, rou) or 'blacklist' for the shared store", DefaultValueFactory = _ => defaultCode };

    public static Argument<string> RequiredInstance() =>
        new("instance") { Description = "Instance code (ISO3, e.g. usa, rou)" };

    public static SecretsSource ParseSecrets(string? text) =>
        string.Equals(text, "gcp", StringComparison.OrdinalIgnoreCase) ? SecretsSource.Gcp : SecretsSource.Local;

    public static RedisTarget Target(ParseResult parse, Argument<string> instance, Option<string?> endpoint, Option<string> secrets)
    {
        var topology = CliContext.LoadTopology();
        return ConnectionResolver.Redis(topology.GetRedis(parse.GetValue(instance)!), parse.GetValue(endpoint), ParseSecrets(parse.GetValue(secrets)));
    }

    /// <summary>Where a --dry-run would connect: resolved like <see cref="Target"/> but never asking gcloud (nothing is contacted).</summary>
    public static RedisTarget Planned(ParseResult parse, Argument<string> instance, Option<string?> endpoint) =>
        ConnectionResolver.Redis(CliContext.LoadTopology().GetRedis(parse.GetValue(instance)!), parse.GetValue(endpoint), SecretsSource.Local);

    /// <summary>The dry-run step of a read-only Redis command.</summary>
    public static DryRunStep Reads(RedisTarget target, string commands) =>
        new(target.ToString(), $"connect as {target.User} with the password from {target.PasswordSource}, then {commands} (read-only)");

    /// <summary>
    /// Asks on a terminal; without one (a pipe, CI, a script) it refuses with exit 2, so nothing destructive happens
    /// unless --yes says so.
    /// </summary>
    public static bool Confirm(CliContext cli, string what, string refusal)
    {
        if (Console.IsInputRedirected)
        {
            throw new CliException($"{refusal}: stdin is not a terminal, so there is no one to confirm. Re-run with --yes (or --dry-run to see what would change).", ExitCodes.Usage);
        }
        cli.Error.Write($"{what} Type 'yes' to continue: ");
        cli.Error.Flush();
        var answer = Console.In.ReadLine();
        if (string.Equals(answer?.Trim(), "yes", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        cli.Error.WriteLine("Cancelled: nothing was changed.");
        return false;
    }

    public static string YesNo(bool? value) => value switch { true => "yes", false => "no", null => "-" };
}
