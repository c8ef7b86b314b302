using System.Reflection;

namespace DiveAspire.AppHost;

/// <summary>
/// Every process the AppHost starts (DCP, and through it each redis-server, backend and monitoring process of the process
/// runtime) inherits the AppHost's whole environment. Secrets given there (<c>Parameters__&lt;name&gt;</c>, the original's
/// <c>REDIS_PASSWORD_*</c>) would then sit in the environment of every process, each backend holding every other
/// realm's and the operators' passwords. Once the graph is built (the configuration has read them), they are removed
/// from the AppHost's own environment, so nothing it starts inherits them.
/// </summary>
public static class InheritedSecrets
{
    private const string ParameterPrefix = "Parameters__";
    private const string OriginalPasswordPrefix = "REDIS_PASSWORD_";

    public static bool IsSecret(string variable) =>
        variable.StartsWith(ParameterPrefix, StringComparison.OrdinalIgnoreCase) || variable.StartsWith(OriginalPasswordPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Removes them, only when the AppHost owns its process: under the test harness it runs inside the test process, whose
    /// environment belongs to the tests (some set these variables for the CLI they test).
    /// </summary>
    public static void RemoveFromEnvironment()
    {
        if (Assembly.GetEntryAssembly() != typeof(InheritedSecrets).Assembly)
        {
            return;
        }
        foreach (var variable in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(IsSecret).ToList())
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
