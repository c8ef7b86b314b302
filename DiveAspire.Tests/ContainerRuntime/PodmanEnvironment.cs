using System.Diagnostics;
using DiveAspire.Topology;

namespace DiveAspire.Tests.ContainerRuntime;

/// <summary>
/// Whether this machine can run the container-runtime tests: Podman answers with the containers.conf that
/// setup-podman-standins.sh wrote (./dive test runs it first), and the images the graph asks for exist locally.
/// </summary>
public static class PodmanEnvironment
{
    public const string RedisImage = "docker.io/library/redis:8.6";
    private const string SetupScript = "DiveAspire.Tests/ContainerRuntime/setup-podman-standins.sh";

    private static readonly Lazy<string?> NotReadyReason = new(FindProblem);

    public static string RepositoryRoot => Path.GetDirectoryName(DiveTopology.FindInstancesDirectory(AppContext.BaseDirectory))!;
    public static string ContainersConf => Path.Combine(RepositoryRoot, ".dive", "podman", "containers.conf");

    /// <summary>Written by the setup script only where Podman's default storage cannot work (e.g. on overlayfs).</summary>
    public static string StorageConf => Path.Combine(RepositoryRoot, ".dive", "podman", "storage.conf");

    private static string SetupFailed => Path.Combine(RepositoryRoot, ".dive", "podman", "setup-failed");

    /// <summary>The variables podman needs to use this repository's configuration and storage.</summary>
    public static IReadOnlyDictionary<string, string?> Variables => new Dictionary<string, string?>
    {
        ["CONTAINERS_CONF"] = ContainersConf,
        ["CONTAINERS_STORAGE_CONF"] = File.Exists(StorageConf) ? StorageConf : null,
    };

    public static bool Ready => NotReadyReason.Value is null;

    /// <summary>Why the tests are skipped; null when Podman is ready.</summary>
    public static string? Reason => NotReadyReason.Value;

    private static string? FindProblem()
    {
        if (File.Exists(SetupFailed))
        {
            return $"Podman cannot be set up here: {File.ReadAllText(SetupFailed).Trim()}";
        }
        if (!File.Exists(ContainersConf))
        {
            return $"Podman is not set up: {ContainersConf} is missing (run {SetupScript}; ./dive test does).";
        }
        var info = Podman("info --format {{.Host.OCIRuntime.Name}}");
        if (info.ExitCode != 0)
        {
            return $"podman does not answer here: {info.Output.Trim()}";
        }
        if (Podman($"image exists {RedisImage}").ExitCode != 0)
        {
            return $"image {RedisImage} is missing (no registry here: run {SetupScript} to build the stand-in).";
        }
        return null;
    }

    /// <summary>Runs podman with this repository's containers.conf; returns its exit code and stdout+stderr.</summary>
    public static (int ExitCode, string Output) Podman(string arguments, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("podman", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in Variables)
        {
            start.Environment[name] = value;
        }
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"podman {arguments} timed out");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, $"podman is not installed ({ex.Message})");
        }
    }

    /// <summary>
    /// Stops the `podman events` watchers DCP started for this repository's runs and left behind when it stopped
    /// (reparented to init, they ran for ever and kept any lock file their parent held). They are recognised by their
    /// parent (init), their command and the <c>CONTAINERS_CONF</c> of this repository in their environment.
    /// </summary>
    public static void StopOrphanedEventWatchers()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                var command = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (command.Length < 2 || Path.GetFileName(command[0]) != "podman" || command[1] != "events")
                {
                    continue;
                }
                var parent = File.ReadAllText(Path.Combine(dir, "stat")).Split(") ")[1].Split(' ')[1];
                var environment = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (parent == "1" && environment.Contains($"CONTAINERS_CONF={ContainersConf}"))
                {
                    using var orphan = Process.GetProcessById(int.Parse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture));
                    orphan.Kill();
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
    }

    /// <summary>Like <see cref="Podman"/> but fails the test on a non-zero exit.</summary>
    public static string PodmanOk(string arguments)
    {
        var (exitCode, output) = Podman(arguments);
        Assert.True(exitCode == 0, $"podman {arguments} failed ({exitCode}): {output}");
        return output.Trim();
    }
}
