using System.Diagnostics;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Monitoring;

/// <summary>The shipped monitoring/ folder and a runner for the real promtool/amtool binaries.</summary>
public static class RepositoryFiles
{
    public static string Root => Path.GetDirectoryName(AppHostArgs.InstancesDirectory)!;
    public static string Monitoring => Path.Combine(Root, "monitoring");
    public static string Dashboard => Path.Combine(Monitoring, "grafana", "dashboards", "dive-redis.json");

    public static async Task<(int ExitCode, string Output)> RunAsync(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Monitoring };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{command} did not start");
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
