using System.CommandLine;
using DiveAspire.Cli;

namespace DiveAspire.Tests.Cli;

/// <summary>The command line itself: help on every command, and one-line usage errors with exit 2.</summary>
public sealed class CliCommandLineTests
{
    private static Task<CliRun> Dive(params string[] args) => CliRun.RunAsync([], args);

    /// <summary>Every command of the tree as the words that reach it ("redis rate-limits reset").</summary>
    public static TheoryData<string> EveryCommand() => new(CommandPaths());

    private static List<string> CommandPaths()
    {
        var data = new List<string>();
        void Walk(Command command, string path)
        {
            data.Add(path);
            foreach (var sub in command.Subcommands)
            {
                Walk(sub, $"{path} {sub.Name}".Trim());
            }
        }
        Walk(DiveCli.Build(new CliContext(TextWriter.Null, TextWriter.Null)), "");
        return data;
    }

    private static Command Find(params string[] path) =>
        path.Aggregate((Command)DiveCli.Build(new CliContext(TextWriter.Null, TextWriter.Null)), (c, name) => c.Subcommands.Single(s => s.Name == name));

    [Theory]
    [MemberData(nameof(EveryCommand))]
    public async Task Help_works_on_every_command(string path)
    {
        var words = path.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var run = (await Dive([.. words, "--help"])).Expect(0);
        Assert.Equal("", run.Error);
        Assert.Contains("Usage:", run.Out);
        // The usage line names the command path (the root's own name is the host executable's).
        Assert.Contains($" {string.Join(' ', words)} ".Replace("  ", " "), run.Out.Split("Usage:")[1].Split('\n', StringSplitOptions.RemoveEmptyEntries)[0] + " ");
        Assert.Equal(run.Out, (await Dive([.. words, "-h"])).Expect(0).Out);
    }

    [Fact]
    public void The_tree_has_every_command_of_the_issue()
    {
        var paths = CommandPaths().ToHashSet();
        foreach (var expected in new[]
        {
            "instances", "ports", "token mint", "redis help", "redis status", "redis status-all", "redis health", "redis stats",
            "redis flush", "redis blacklist status", "redis blacklist sync", "redis blacklist clear", "redis rate-limits show",
            "redis rate-limits reset", "redis metrics", "redis alerts",
            // The original plan's commands (issue 17).
            "health", "ps", "hub status", "hub verify", "spoke status", "spoke status-all", "spoke verify", "spoke verify-federation",
        })
        {
            Assert.Contains(expected, paths);
        }
    }

    [Fact]
    public async Task Redis_help_lists_every_redis_command_with_its_description()
    {
        var help = (await Dive("redis", "help")).Expect(0);
        Assert.Equal("", help.Error);
        var redis = Find("redis");
        Assert.NotEmpty(redis.Subcommands);
        foreach (var command in redis.Subcommands)
        {
            var line = help.Out.Split('\n').SingleOrDefault(l => l.TrimStart().StartsWith(command.Name + " ", StringComparison.Ordinal));
            Assert.True(line is not null, $"'dive redis help' does not list {command.Name}:\n{help.Out}");
            Assert.Contains(command.Description!.Split(' ')[0], line);
        }
        Assert.Equal(help.Out, (await Dive("redis", "--help")).Expect(0).Out);
        // 'dive redis' alone is a usage error like 'dive token' (issue 20: the same exit code for the same mistake).
        Assert.StartsWith("dive: 'dive redis' needs a command (valid: help, status,", (await Dive("redis")).Expect(2).OneLineError);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("bogus", "extra")]
    [InlineData("redis", "bogus")]
    [InlineData("redis", "blacklist", "bogus")]
    [InlineData("redis", "rate-limits", "203.0.113.7")]
    public async Task Unknown_command_is_one_line_naming_the_valid_ones_with_exit_2(params string[] args)
    {
        var run = (await Dive(args)).Expect(2);
        Assert.Equal("", run.Out);
        var error = run.OneLineError;
        var parent = Find([.. args.TakeWhile(a => a is "redis" or "blacklist" or "rate-limits")]);
        var typed = string.Join(' ', args.TakeWhile(a => a is "redis" or "blacklist" or "rate-limits").Append(args.SkipWhile(a => a is "redis" or "blacklist" or "rate-limits").First()));
        Assert.StartsWith($"dive: unknown command '{typed}' (valid: {string.Join(", ", parent.Subcommands.Select(c => c.Name))}); see ", error);
        Assert.EndsWith($" --help", error);
    }

    [Fact]
    public async Task Unknown_command_at_the_root_reads_as_documented()
    {
        var run = (await Dive("bogus")).Expect(2);
        Assert.Equal("dive: unknown command 'bogus' (valid: instances, ports, preflight, token, redis, health, ps, hub, spoke); see dive --help", run.OneLineError);
    }

    [Fact]
    public async Task A_group_without_its_command_names_the_valid_ones()
    {
        var error = (await Dive("redis", "blacklist")).Expect(2).OneLineError;
        Assert.Equal("dive: 'dive redis blacklist' needs a command (valid: status, sync, clear); see dive redis blacklist --help", error);
    }

    [Theory]
    [InlineData("dive: Unrecognized command or argument 'extra'; see dive redis status --help", "redis", "status", "usa", "extra")]
    [InlineData("dive: Unrecognized command or argument '--bogus'; see dive redis --help", "redis", "--bogus")]
    [InlineData("dive: Required argument missing for command: 'reset'; see dive redis rate-limits reset --help", "redis", "rate-limits", "reset")]
    public async Task Other_parse_errors_are_one_line_each_pointing_at_the_commands_help(string expected, params string[] args)
    {
        var run = (await Dive(args)).Expect(2);
        Assert.Equal("", run.Out);
        Assert.Equal(expected, run.OneLineError);
    }

    [Fact]
    public async Task Two_parse_errors_are_two_lines_and_only_the_last_points_at_help()
    {
        var run = (await Dive("redis", "rate-limits", "reset", "203.0.113.7", "usa", "--bogus", "x")).Expect(2);
        Assert.Equal(
            ["dive: Unrecognized command or argument '--bogus'", "dive: Unrecognized command or argument 'x'; see dive redis rate-limits reset --help"],
            run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
