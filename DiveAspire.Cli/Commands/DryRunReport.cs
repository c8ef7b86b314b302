using System.CommandLine;

namespace DiveAspire.Cli.Commands;

/// <summary>One step a command would take: what it would contact and what it would do there.</summary>
public sealed record DryRunStep(string Target, string Action);

/// <summary>
/// <c>--dry-run</c> of the commands that query or change something: prints the targets and the commands they would
/// receive, contacts nothing (no connection, no HTTP request, no process started) and exits 0.
/// </summary>
internal static class DryRunReport
{
    public static int Write(CliContext cli, ParseResult parse, IReadOnlyList<DryRunStep> steps)
    {
        var command = CommandPath(parse);
        if (parse.GetValue(CliContext.JsonOption))
        {
            cli.WriteJson(new { dryRun = true, command, steps });
            return ExitCodes.Ok;
        }
        cli.Out.WriteLine($"Dry run of '{command}': nothing was contacted or changed. It would:");
        foreach (var step in steps)
        {
            cli.Out.WriteLine($"  {step.Target}: {step.Action}");
        }
        return ExitCodes.Ok;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var node = parse.CommandResult; node is not null; node = node.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(node.Command is RootCommand ? "dive" : node.Command.Name);
        }
        names.Reverse();
        return string.Join(' ', names);
    }
}
