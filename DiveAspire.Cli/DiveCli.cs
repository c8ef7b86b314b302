using System.CommandLine;
using System.CommandLine.Parsing;
using DiveAspire.Cli.Commands;
using DiveAspire.Topology;

namespace DiveAspire.Cli;

/// <summary>Builds the `dive` command tree and maps every failure to one line and an exit code (0 ok, 1 failed, 2 usage).</summary>
public static class DiveCli
{
    public static RootCommand Build(CliContext cli)
    {
        var root = new RootCommand("DIVE V3 operations: instances, ports and Redis of the federation")
        {
            CliContext.JsonOption,
            InstancesCommands.Instances(cli),
            InstancesCommands.Ports(cli),
            PreflightCommand.Create(cli),
            TokenCommands.Create(cli),
            RedisCommands.Create(cli),
            HealthCommand.Create(cli),
            PsCommand.Create(cli),
            HubCommands.Create(cli),
            SpokeCommands.Create(cli),
        };
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct = default)
    {
        var cli = new CliContext(stdout, stderr);
        var root = Build(cli);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            ReportParseErrors(parse, stderr);
            return ExitCodes.Usage;
        }
        if (StrayOption(parse) is { } stray)
        {
            var path = CommandPath(parse.CommandResult);
            stderr.WriteLine($"dive: unknown option '{stray}' for '{path}'; see {path} --help");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false }, ct);
        }
        catch (TopologyException ex)
        {
            stderr.WriteLine($"dive: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (CliException ex)
        {
            stderr.WriteLine($"dive: {ex.Message}");
            return ex.ExitCode;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("dive: cancelled");
            return ExitCodes.Failed;
        }
    }

    /// <summary>
    /// One line per problem. A wrong or missing sub-command (System.CommandLine reports it as two errors) becomes a
    /// single line naming the valid sub-commands; every other parse error keeps its own line, the last one pointing at --help.
    /// </summary>
    private static void ReportParseErrors(ParseResult parse, TextWriter stderr)
    {
        var command = parse.CommandResult.Command;
        var path = CommandPath(parse.CommandResult);
        var help = $"see {path} --help";
        var subcommands = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
        if (subcommands.Count > 0)
        {
            var valid = $"valid: {string.Join(", ", subcommands)}";
            if (parse.UnmatchedTokens.FirstOrDefault() is { } token && !token.StartsWith('-'))
            {
                var typed = string.Join(' ', path.Split(' ').Skip(1).Append(token));
                stderr.WriteLine($"dive: unknown command '{typed}' ({valid}); {help}");
                return;
            }
            if (parse.UnmatchedTokens.Count == 0 && command.Action is null)
            {
                stderr.WriteLine($"dive: '{path}' needs a command ({valid}); {help}");
                return;
            }
        }
        // "Required command was not provided" next to another error ('dive redis --bogus') says nothing more.
        var errors = parse.Errors.Count > 1 && command.Action is null && subcommands.Count > 0
            ? parse.Errors.Where(e => e.SymbolResult is not CommandResult || !e.Message.StartsWith("Required command", StringComparison.Ordinal)).ToList()
            : parse.Errors.ToList();
        for (var i = 0; i < errors.Count; i++)
        {
            var message = OneLine(errors[i]);
            stderr.WriteLine(i == errors.Count - 1 ? $"dive: {message}; {help}" : $"dive: {message}");
        }
    }

    /// <summary>The parser's message on one line, naming the option it is about ("--clearance: Argument 'X' not recognized. Must be one of: 'A', 'B'").</summary>
    private static string OneLine(ParseError error)
    {
        var message = error.Message.TrimEnd('.').Replace("\r", "");
        message = message.Replace(":\n\t", ": ").Replace("\n\t", ", ").Replace('\n', ' ');
        var option = error.SymbolResult switch
        {
            OptionResult o => o.Option.Name,
            ArgumentResult { Parent: OptionResult o } => o.Option.Name,
            _ => null,
        };
        return option is null || message.Contains(option, StringComparison.Ordinal) ? message : $"{option}: {message}";
    }

    /// <summary>
    /// An unknown option that the parser took as the value of a command's argument ('dive redis status --bogus' would
    /// otherwise read "--bogus" as an instance code). No argument of this CLI starts with '-' followed by a letter.
    /// </summary>
    private static string? StrayOption(ParseResult parse) =>
        parse.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens)
            .Select(t => t.Value).FirstOrDefault(v => v.Length > 1 && v[0] == '-' && !char.IsAsciiDigit(v[1]) && v[1] != '.');

    /// <summary>"dive redis rate-limits" for the command the parser stopped at.</summary>
    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? node = result; node is not null; node = node.Parent)
        {
            if (node is CommandResult { Command: var c })
            {
                names.Add(c is RootCommand ? "dive" : c.Name);
            }
        }
        names.Reverse();
        return string.Join(' ', names);
    }
}
