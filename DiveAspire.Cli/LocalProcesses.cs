namespace DiveAspire.Cli;

/// <summary>The state of a local process, read from /proc (Linux), for the AppHost, the bench and the tests.</summary>
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
}
