using DiveAspire.AppHost;

namespace Aspire.Hosting;

public static class OrchestratorSettings
{
    /// <summary>Read by DCP, which inherits the AppHost's environment.</summary>
    public const string DisableMonitorProcessVariable = "DCP_DISABLE_MONITOR_PROCESS";

    /// <summary>
    /// DCP starts a `dcp monitor-process` next to every process it runs (about 67 MB RSS each, 69 of them for hub + 31
    /// spokes) only to kill that process if DCP itself dies abruptly. DCP still stops everything when the AppHost stops
    /// or is killed; backends also exit on their own when orphaned (Dive__ExitWithOrchestrator), so only the Redis
    /// servers and the monitoring executables (exporter, Prometheus, Alertmanager) outlive a crashed (SIGKILLed) DCP:
    /// checked with hub + ROU, monitoring on. The next start shuts a leftover Redis down (LeftoverRedis), and `./dive up`
    /// names whatever holds a planned port. Dive:ProcessWatchers=true restores DCP's watchers.
    /// </summary>
    public static void ApplyOrchestratorSettings(this IDistributedApplicationBuilder builder, DiveOptions options) =>
        Environment.SetEnvironmentVariable(DisableMonitorProcessVariable, options.ProcessWatchers ? null : "true");
}
