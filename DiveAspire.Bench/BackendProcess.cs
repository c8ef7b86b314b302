using System.Globalization;
using DiveAspire.Cli;
using DiveAspire.Cli.AppState;

namespace DiveAspire.Bench;

/// <summary>
/// One running backend as the bench sees it: its pid (from the AppHost's state file, as <c>dive ps</c> reads it), the
/// port Kestrel itself listens on (its ASPNETCORE_URLS) and its CPU time and RSS from /proc.
/// </summary>
public sealed record BackendProcess(string Code, int Pid, Uri OwnUri)
{
    /// <summary>The redis-server this backend's limiter uses, when its CPU time is measured too (see <see cref="WithRedis"/>).</summary>
    public int? RedisPid { get; init; }

    /// <summary>The same backend with its instance's redis-server (resource redis-&lt;code&gt;) measured too, when it runs as a process.</summary>
    public BackendProcess WithRedis(AppHostProcess app) =>
        this with { RedisPid = AppHostState.Read(app.StatePath)?.Resources.SingleOrDefault(r => r.Name == $"redis-{Code.ToLowerInvariant()}")?.Pid };

    public static BackendProcess Find(AppHostProcess app, string code)
    {
        var name = $"backend-{code.ToLowerInvariant()}";
        var state = AppHostState.Read(app.StatePath) ?? throw new InvalidOperationException($"the AppHost wrote no state file ({app.StatePath})");
        var pid = state.Resources.SingleOrDefault(r => r.Name == name)?.Pid
            ?? throw new InvalidOperationException($"{name} has no pid in {app.StatePath} (one replica, executable launch expected)");
        var urls = LocalProcesses.Environment(pid).GetValueOrDefault("ASPNETCORE_URLS")
            ?? throw new InvalidOperationException($"{name} (pid {pid}) has no ASPNETCORE_URLS");
        var own = new Uri(urls.Split(';')[0].Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        return new BackendProcess(code, pid, own);
    }

    /// <summary>User + system CPU time of every thread of the process, in microseconds (/proc/pid/stat, 100 ticks a second).</summary>
    public double CpuMicroseconds() => CpuMicroseconds(Pid);

    /// <summary>The same for the redis-server of <see cref="RedisPid"/>; NaN when there is none.</summary>
    public double RedisCpuMicroseconds() => RedisPid is { } pid ? CpuMicroseconds(pid) : double.NaN;

    private static double CpuMicroseconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after "pid (comm) ".
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks * 10_000.0;
    }

    public double RssMb()
    {
        var line = File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>RSS split into anonymous memory (GC heap, JIT code, stacks, native allocations: the process's own) and
    /// file-backed pages (the runtime's and the assemblies' mapped images, shared with every other backend), in MB.</summary>
    public (double AnonymousMb, double FileMb) RssSplit()
    {
        double Kb(string key) => File.ReadLines($"/proc/{Pid}/smaps_rollup").Where(l => l.StartsWith(key, StringComparison.Ordinal))
            .Select(l => double.Parse(l[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture)).FirstOrDefault();
        var rss = Kb("Rss:");
        var anonymous = Kb("Anonymous:");
        return (anonymous / 1024, (rss - anonymous) / 1024);
    }
}
