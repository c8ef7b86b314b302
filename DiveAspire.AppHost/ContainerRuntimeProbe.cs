using System.Diagnostics;

namespace DiveAspire.AppHost;

/// <summary>
/// Decides whether a container runtime actually answers. A docker client without a daemon must not be mistaken
/// for a runtime: a container resource would then stay unhealthy and every WaitFor on it would hang.
/// </summary>
public static class ContainerRuntimeProbe
{
    public static DiveRuntime Resolve(DiveRuntime requested, string? runtimeName)
    {
        if (requested != DiveRuntime.Auto)
        {
            return requested;
        }
        return Answers(string.IsNullOrWhiteSpace(runtimeName) ? "docker" : runtimeName)
            ? DiveRuntime.Container
            : DiveRuntime.Process;
    }

    public static bool Answers(string runtime)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, "info --format {{.Host.Os}}{{.OSType}}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
