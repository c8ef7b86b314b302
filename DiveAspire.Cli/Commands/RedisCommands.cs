using System.CommandLine;

namespace DiveAspire.Cli.Commands;

/// <summary><c>dive redis ...</c>: the Redis servers of the federation (see docs/CLI-GUIDE.md).</summary>
public static class RedisCommands
{
    public static Command Create(CliContext cli)
    {
        var redis = new Command("redis", "Redis of the federation: status, health, stats, flush, revocation store, Sentinels (HA), rate limits, metrics, alerts")
        {
            Help(),
            RedisServerCommands.Status(cli),
            RedisServerCommands.StatusAll(cli),
            RedisServerCommands.Health(cli),
            RedisServerCommands.Stats(cli),
            RedisServerCommands.Flush(cli),
            RedisBlacklistCommands.Create(cli),
            RedisSentinelCommands.Create(cli),
            RedisRateLimitCommands.Create(cli),
            RedisMonitoringCommands.Metrics(cli),
            RedisMonitoringCommands.Alerts(cli),
        };
        // No action: 'dive redis' alone is a usage error (exit 2) naming the commands, like 'dive token'.
        return redis;
    }

    private static Command Help()
    {
        var help = new Command("help", "Show the redis commands (same as 'dive redis --help')");
        help.SetAction(PrintHelp);
        return help;
    }

    private static int PrintHelp(ParseResult parse) =>
        parse.RootCommandResult.Command.Parse(["redis", "--help"]).Invoke(new InvocationConfiguration { Output = parse.InvocationConfiguration.Output });
}
