using System.CommandLine;
using System.Globalization;
using DiveAspire.Cli.AppState;
using DiveAspire.Cli.Operations;

namespace DiveAspire.Cli.Commands;

/// <summary>
/// <c>dive ps</c>: what the running AppHost has started, from the state file it keeps (<see cref="AppHostState"/>),
/// verified here: the AppHost and each process alive, each port accepting connections.
/// </summary>
internal static class PsCommand
{
    public static Command Create(CliContext cli)
    {
        var dryRun = RedisOptions.DryRun();
        var command = new Command("ps", "What the running app has started (resource, type, state, ports, pid or container), read from the running AppHost; exit 1 if it is not running")
        {
            dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            var path = AppHostState.DefaultPath();
            if (parse.GetValue(dryRun))
            {
                return DryRunReport.Write(cli, parse, [new(path, "read the AppHost's state file, check its pid and each resource's pid in /proc, open a TCP connection to each port")]);
            }
            var state = RunningState(path);
            var rows = await Task.WhenAll(state.Resources.Select(r => VerifyAsync(r, ct)));
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(new { running = true, state.AppHostPid, state.StartedAt, state.UpdatedAt, stateFile = path, resources = rows });
                return ExitCodes.Ok;
            }
            cli.Out.WriteLine($"AppHost pid {state.AppHostPid}, started {state.StartedAt.ToString("u", CultureInfo.InvariantCulture)} ({path})");
            cli.WriteTable(["RESOURCE", "TYPE", "STATE", "HEALTH", "PORTS", "PID/CONTAINER", "VERIFIED"], rows.Select(r => (IReadOnlyList<string>)[
                r.Name, r.Type, r.State ?? "-", r.Health ?? "-",
                r.Urls.Count == 0 ? "-" : string.Join(",", r.Urls.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var url) ? url.Port.ToString(CultureInfo.InvariantCulture) : u).Distinct()),
                r.Pid?.ToString(CultureInfo.InvariantCulture) ?? (r.ContainerId is { Length: > 12 } id ? id[..12] : r.ContainerId ?? "-"),
                r.Verified]));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The state of a running AppHost; a missing file or a dead AppHost is "not running" (exit 1).</summary>
    public static AppHostState RunningState(string path)
    {
        var state = AppHostState.Read(path)
            ?? throw new CliException($"DIVE is not running (no {path}; start it with './dive up').");
        if (!LocalProcesses.IsRunning(state.AppHostPid))
        {
            throw new CliException($"DIVE is not running (the AppHost pid {state.AppHostPid} that wrote {path} has exited).");
        }
        return state;
    }

    /// <summary>The running AppHost's state, or null when none runs (for commands that only use it as a hint).</summary>
    public static AppHostState? TryRunningState()
    {
        try
        {
            return RunningState(AppHostState.DefaultPath());
        }
        catch (CliException)
        {
            return null;
        }
    }

    /// <summary>
    /// The spokes the running app runs ("none" for the hub alone), or null when no app runs: the default of --spokes
    /// for health, hub and spoke, so they check what runs rather than every folder of instances/.
    /// </summary>
    public static string? RunningSpokes(AppHostState? app = null)
    {
        app ??= TryRunningState();
        if (app is null)
        {
            return null;
        }
        var hub = CliContext.LoadTopology("none").Hub.Code;
        var spokes = app.InstanceCodes().Where(c => c != hub).ToList();
        return spokes.Count == 0 ? "none" : string.Join(',', spokes);
    }

    private sealed record PsRow(string Name, string Id, string Type, string? State, string? Health, int? Pid, string? ContainerId, IReadOnlyList<string> Urls, bool? PidAlive, bool? PortsAnswer, string Verified);

    private static async Task<PsRow> VerifyAsync(ResourceState r, CancellationToken ct)
    {
        var running = r.State == "Running";
        bool? pidAlive = running && r.Pid is { } pid ? LocalProcesses.IsRunning(pid) : null;
        var urls = r.Urls.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var url) ? url : null).OfType<Uri>().ToList();
        var closed = new List<int>();
        if (running)
        {
            foreach (var url in urls.DistinctBy(u => (u.Host, u.Port)))
            {
                if (!await PortProbe.AnswersAsync(url, ct).ConfigureAwait(false))
                {
                    closed.Add(url.Port);
                }
            }
        }
        bool? portsAnswer = running && urls.Count > 0 ? closed.Count == 0 : null;
        var verified = !running ? "-"
            : string.Join(", ", new[]
            {
                pidAlive switch { true => "pid alive", false => "pid gone", null => null },
                portsAnswer switch { true => "ports answer", false => $"closed: {string.Join(",", closed)}", null => null },
            }.OfType<string>()) is { Length: > 0 } text ? text : "-";
        return new PsRow(r.Name, r.Id, r.Type, r.State, r.Health, r.Pid, r.ContainerId, r.Urls, pidAlive, portsAnswer, verified);
    }
}
