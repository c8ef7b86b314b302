using System.ComponentModel;
using System.Runtime.InteropServices;

namespace DiveAspire.Cli;

/// <summary>Local processes (Linux), for the AppHost, the bench and the tests: state read from /proc, signals sent
/// with kill(2) rather than by running the kill program (procps, absent from minimal systems and most images).</summary>
public static class LocalProcesses
{
    /// <summary>Running and not a zombie waiting to be reaped (an orphan in a container may never be).</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The parent's pid (/proc/pid/stat); null when the process is gone.</summary>
    public static int? ParentPid(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The environment the process started with (/proc/pid/environ, readable by its own user and root only).</summary>
    public static Dictionary<string, string> Environment(int pid) =>
        File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(v => v.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0])
            .ToDictionary(g => g.Key, g => g.First()[1]);

    /// <summary>Sends <paramref name="signal"/> to the one process <paramref name="pid"/>. False when no such process
    /// exists; throws when it may not be signalled. A pid of 0 or less (a process group, or every process) is refused.</summary>
    public static bool Signal(int pid, UnixSignal signal)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("signals are sent with Linux's kill(2)");
        }
        if (kill(pid, (int)signal) == 0)
        {
            return true;
        }
        var errno = Marshal.GetLastPInvokeError();
        return errno == NoSuchProcess ? false : throw new Win32Exception(errno, $"kill({pid}, SIG{signal.ToString().ToUpperInvariant()}) failed");
    }

    private const int NoSuchProcess = 3; // ESRCH

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}

/// <summary>The Linux signal numbers (x86-64 and arm64) that the project sends.</summary>
public enum UnixSignal
{
    Kill = 9,
    Term = 15,
    Cont = 18,
    Stop = 19,
}
