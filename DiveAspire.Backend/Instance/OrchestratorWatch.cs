using System.Runtime.InteropServices;

namespace DiveAspire.Backend.Instance;

/// <summary>
/// Stops the backend when the process that started it is gone (the backend was re-parented). The AppHost turns off
/// DCP's per-process watchers to save memory, so a backend must not outlive an orchestrator that died abruptly and keep
/// its port. Enabled by <c>Dive:ExitWithOrchestrator=true</c> (set by the AppHost), on Linux and macOS.
/// </summary>
public sealed class OrchestratorWatch(IHostApplicationLifetime lifetime, ILogger<OrchestratorWatch> logger) : BackgroundService
{
    public const string SettingKey = "Dive:ExitWithOrchestrator";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public static bool Enabled(IConfiguration config) => config.GetValue<bool>(SettingKey) && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS());

    [DllImport("libc", EntryPoint = "getppid")]
    private static extern int ParentProcessId();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var parent = ParentProcessId();
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (ParentProcessId() != parent)
                {
                    logger.LogWarning("The process that started this backend (pid {Parent}) is gone: stopping", parent);
                    lifetime.StopApplication();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Normal shutdown.
        }
    }
}
