using System.Reflection;
using DiveAspire.Cli.Connections;

namespace DiveAspire.AppHost;

/// <summary>
/// Every process the AppHost starts (DCP, and through it each redis-server, backend and monitoring process of the process
/// runtime; podman or docker when it probes the container runtime) inherits the AppHost's whole environment. Secrets
/// given there (<c>Parameters__&lt;name&gt;</c>, the original's <c>REDIS_PASSWORD_*</c>, <c>DIVE_ADMIN_TOKEN</c>,
/// <c>DIVE_DEV_SIGNING_KEY</c>) would then sit in the environment of every process, each backend holding every other
/// realm's and the operators' passwords. Right after the configuration has read them they are moved out of the
/// AppHost's environment into this class, where the AppHost's own code reads them (<see cref="Variable"/>).
/// </summary>
public static class InheritedSecrets
{
    private static readonly string[] Prefixes = ["Parameters__", "REDIS_PASSWORD_"];
    private static readonly string[] Names = [AdminToken.EnvironmentVariable, AdminToken.SigningKeyVariable];
    private static readonly Dictionary<string, string> Removed = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Case-insensitive, as configuration keys are; also with the DOTNET_ prefix the builder strips, and ':' for '__'.</summary>
    public static bool IsSecret(string variable)
    {
        var name = (variable.StartsWith("DOTNET_", StringComparison.OrdinalIgnoreCase) ? variable["DOTNET_".Length..] : variable)
            .Replace(":", "__", StringComparison.Ordinal);
        return Prefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase)) || Names.Contains(name, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>An environment variable as the AppHost was started with it, removed or not.</summary>
    public static string? Variable(string name) => Removed.TryGetValue(name, out var value) ? value : Environment.GetEnvironmentVariable(name);

    /// <summary>
    /// Moves them out, only when the AppHost owns its process: under the test harness it runs inside the test process,
    /// whose environment belongs to the tests (some set these variables for the CLI they test). Call it once, right after
    /// the builder is created (its configuration has read the environment) and before anything starts a process.
    /// </summary>
    public static void RemoveFromEnvironment()
    {
        if (Assembly.GetEntryAssembly() != typeof(InheritedSecrets).Assembly)
        {
            return;
        }
        foreach (var variable in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(IsSecret).ToList())
        {
            Removed[variable] = Environment.GetEnvironmentVariable(variable) ?? "";
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
