using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.AppHost;

public enum BackendLaunchMode { Auto, Executable, Project }

/// <summary>Which build of the backend runs: the JIT build output (default) or the Native AOT binary <c>./dive up --aot</c> publishes.</summary>
public enum BackendBuild { Jit, Aot }

/// <summary>
/// How a backend process is started. <c>executable</c> runs the built DiveAspire.Backend binary directly (fast start,
/// less memory); <c>project</c> lets Aspire run the project (`dotnet run`), which is what an IDE debugger attaches to and
/// what replicas and publishing need. <c>auto</c> (default) picks executable unless replicas, an IDE session, publish mode or a
/// missing build need project.
/// </summary>
public static class BackendLaunch
{
    /// <summary>Set by Visual Studio / VS Code when they run the AppHost; their debugger attaches to project resources only.</summary>
    public const string IdeSessionVariable = "DEBUG_SESSION_PORT";

    public static BackendLaunchMode Parse(string? text) =>
        string.IsNullOrEmpty(text) ? BackendLaunchMode.Auto
        : Enum.TryParse<BackendLaunchMode>(text, ignoreCase: true, out var mode) && Enum.IsDefined(mode) ? mode
        : throw new TopologyException($"Dive:BackendLaunch must be auto, executable or project (got '{text}').");

    /// <param name="projectOnly">an IDE runs the AppHost (its debugger attaches to projects) or the graph is being published</param>
    public static BackendLaunchMode Resolve(BackendLaunchMode requested, string backendName, int replicas, bool projectOnly, string binary)
    {
        if (requested == BackendLaunchMode.Executable)
        {
            if (replicas > 1)
            {
                throw new TopologyException($"{backendName} has {replicas} replicas: Dive:BackendLaunch=executable runs one process per backend; use auto or project.");
            }
            return File.Exists(binary)
                ? BackendLaunchMode.Executable
                : throw new TopologyException($"Dive:BackendLaunch=executable needs the built backend at {binary}: build the solution first (./dive up does).");
        }
        if (requested == BackendLaunchMode.Project || replicas > 1 || projectOnly || !File.Exists(binary))
        {
            return BackendLaunchMode.Project;
        }
        return BackendLaunchMode.Executable;
    }

    /// <summary>
    /// <c>Dive:Backend:Build=jit|aot</c> for every backend, <c>Dive:Build:&lt;code&gt;</c> for one (what <c>./dive bench</c>
    /// uses to compare both in one app). Publishing always describes the project.
    /// </summary>
    public static BackendBuild BuildFor(IConfiguration config, string lowerCode) =>
        ParseBuild(config[$"Dive:Build:{lowerCode}"], $"Dive:Build:{lowerCode}")
        ?? ParseBuild(config["Dive:Backend:Build"], "Dive:Backend:Build")
        ?? BackendBuild.Jit;

    private static BackendBuild? ParseBuild(string? text, string key) =>
        string.IsNullOrWhiteSpace(text) ? null
        : text.Trim().ToLowerInvariant() switch
        {
            "jit" => BackendBuild.Jit,
            "aot" => BackendBuild.Aot,
            _ => throw new TopologyException($"{key} must be jit or aot (got '{text}')."),
        };

    /// <summary>The Native AOT backend runs as one executable per backend, from where <c>./dive up --aot</c> publishes it.</summary>
    public static string RequireAot(string backendName, int replicas, string binary) =>
        replicas > 1 ? throw new TopologyException($"{backendName} has {replicas} replicas: the AOT backend runs one process per backend; use Dive:Backend:Build=jit.")
        : File.Exists(binary) ? binary
        : throw new TopologyException($"Dive:Backend:Build=aot needs the Native AOT backend at {binary}: ./dive up --aot publishes it.");

    /// <summary>Where <c>./dive</c> publishes the Native AOT backend (DiveAot=true: bin/aot of the project).</summary>
    public static string AotBinaryPath(string projectPath) =>
        Path.Combine(Path.GetDirectoryName(projectPath)!, "bin", "aot", "publish",
            Path.GetFileNameWithoutExtension(projectPath) + (OperatingSystem.IsWindows() ? ".exe" : ""));

    /// <summary>
    /// The backend's build output for the configuration and framework the AppHost itself was built with (both projects
    /// build together: the AppHost references the backend).
    /// </summary>
    public static string BinaryPath(string projectPath)
    {
        var appHostOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = appHostOutput.Name;
        var configuration = appHostOutput.Parent?.Name ?? "Debug";
        var name = Path.GetFileNameWithoutExtension(projectPath) + (OperatingSystem.IsWindows() ? ".exe" : "");
        return Path.Combine(Path.GetDirectoryName(projectPath)!, "bin", configuration, framework, name);
    }
}
