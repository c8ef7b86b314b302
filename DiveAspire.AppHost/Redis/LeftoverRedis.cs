using DiveAspire.Cli;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

/// <summary>
/// A redis-server still running on a data directory from an earlier run (its orchestrator died abruptly: DCP's
/// per-process watchers are off) would share the AOF with the new server. It is shut down cleanly (SIGTERM: Redis
/// saves and exits) before the new one starts. Linux only: found by its working directory, which DCP sets to the data
/// directory (redis-server rewrites its command line, so the arguments cannot be read).
/// </summary>
public static class LeftoverRedis
{
    public static async Task<int> StopAsync(string dataDirectory, ILogger logger, CancellationToken ct)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }
        var stopped = 0;
        foreach (var pid in RedisServersIn(Path.GetFullPath(dataDirectory)))
        {
            logger.LogWarning("Stopping redis-server (pid {Pid}) left running on {Directory} by an earlier run", pid, dataDirectory);
            if (!LocalProcesses.Signal(pid, UnixSignal.Term))
            {
                continue; // it ended on its own meanwhile
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            while (LocalProcesses.IsRunning(pid))
            {
                if (timeout.IsCancellationRequested)
                {
                    LocalProcesses.Signal(pid, UnixSignal.Kill);
                    break;
                }
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
            }
            stopped++;
        }
        return stopped;
    }

    private static IEnumerable<int> RedisServersIn(string dataDirectory)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            string? comm, cwd;
            try
            {
                comm = File.ReadAllText(Path.Combine(dir, "comm")).Trim();
                cwd = comm is "redis-server" or "redis-sentinel" ? new DirectoryInfo(Path.Combine(dir, "cwd")).LinkTarget : null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // gone, or not ours to look at
            }
            if (cwd is not null && Path.TrimEndingDirectorySeparator(cwd) == Path.TrimEndingDirectorySeparator(dataDirectory) && LocalProcesses.IsRunning(pid))
            {
                yield return pid;
            }
        }
    }
}
