namespace DiveAspire.Bench;

/// <summary>
/// Memory of a whole Aspire app: the AppHost's process tree plus DCP, which detaches from the AppHost and is tied to it
/// only by `--monitor &lt;pid&gt;` arguments. RSS double-counts pages shared between processes; PSS divides them.
/// </summary>
public static class ProcessMemory
{
    public sealed record Usage(int Processes, double RssMb, double PssMb, IReadOnlyList<Group> Groups);

    /// <summary>Processes of one kind (by their program name) and what they add up to.</summary>
    public sealed record Group(string Program, int Processes, double RssMb, double PssMb);

    public static Usage OfAppTree(int appHostPid)
    {
        var processes = AllProcesses();
        var members = TreeOf(appHostPid, processes);
        var measured = processes.Where(p => members.Contains(p.Pid))
            .Select(p => (p.Program, Rss: ReadKb($"/proc/{p.Pid}/status", "VmRSS:") / 1024, Pss: ReadKb($"/proc/{p.Pid}/smaps_rollup", "Pss:") / 1024))
            .ToList();
        var groups = measured.GroupBy(m => m.Program)
            .Select(g => new Group(g.Key, g.Count(), g.Sum(m => m.Rss), g.Sum(m => m.Pss)))
            .OrderByDescending(g => g.RssMb)
            .ToList();
        return new Usage(measured.Count, measured.Sum(m => m.Rss), measured.Sum(m => m.Pss), groups);
    }

    /// <summary>The AppHost and every process it, DCP or DCP's watchers started.</summary>
    public static IReadOnlySet<int> AppTree(int appHostPid) => TreeOf(appHostPid, AllProcesses());

    private static HashSet<int> TreeOf(int appHostPid, List<ProcInfo> processes)
    {
        var members = new HashSet<int> { appHostPid };
        bool grew;
        do
        {
            grew = false;
            foreach (var p in processes)
            {
                if (members.Contains(p.Pid))
                {
                    continue;
                }
                if (members.Contains(p.ParentPid) || p.Monitors.Any(members.Contains))
                {
                    members.Add(p.Pid);
                    grew = true;
                }
            }
        }
        while (grew);
        return members;
    }

    private sealed record ProcInfo(int Pid, int ParentPid, int[] Monitors, string Program);

    private static List<ProcInfo> AllProcesses()
    {
        var result = new List<ProcInfo>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                var monitors = args.Select((a, i) => a == "--monitor" && i + 1 < args.Length && int.TryParse(args[i + 1], out var m) ? m : -1)
                    .Where(m => m > 0).ToArray();
                result.Add(new ProcInfo(pid, int.Parse(fields[1]), monitors, ProgramName(args)));
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }
        return result;
    }

    /// <summary>What <paramref name="pid"/> runs, named as in the memory groups ("dcp run-controllers", "redis-server"); "?" once gone.</summary>
    public static string ProgramOf(int pid)
    {
        try
        {
            return ProgramName(File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>The program and, for DCP, its sub-command ("dcp monitor-process"), so DCP's per-process watchers show up as a group.</summary>
    private static string ProgramName(string[] args)
    {
        if (args.Length == 0)
        {
            return "?";
        }
        // redis-server rewrites its argv[0] to "redis-server 127.0.0.1:PORT".
        var program = Path.GetFileName(args[0].Split(' ')[0]);
        return program == "dcp" && args.Length > 1 ? $"dcp {args[1]}" : program;
    }

    private static double ReadKb(string file, string key)
    {
        try
        {
            var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
            return line is null ? 0 : double.Parse(line[key.Length..].Trim().Split(' ')[0]);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
