using System.CommandLine;
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
            foreach (var error in parse.Errors)
            {
                stderr.WriteLine($"dive: {error.Message}");
            }
            stderr.WriteLine($"Run 'dive {string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')).Take(2))} --help' for usage.".Replace("  ", " "));
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
}
