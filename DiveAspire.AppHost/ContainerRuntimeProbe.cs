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

    /// <summary>
    /// An <c>info</c> query that only succeeds when the engine itself answers. Docker and Podman name the field
    /// differently, and an unknown field is a template error (non-zero exit) that would hide a working runtime.
    /// </summary>
    public static string InfoArguments(string runtime) =>
        Path.GetFileNameWithoutExtension(runtime).Equals("podman", StringComparison.OrdinalIgnoreCase)
            ? "info --format {{.Host.OS}}"
            : "info --format {{.OSType}}";

    public static bool Answers(string runtime)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, InfoArguments(runtime))
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
