using System.Diagnostics;

namespace DiveAspire.Bench;

public static class ProcessStop
{
    /// <summary>Kills the process if it still runs, waits until it has exited, and releases it.</summary>
    public static async Task KillAndDisposeAsync(this Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
