using System.Diagnostics;
using DiveAspire.AppHost;
using DiveAspire.Cli;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// DCP's per-process watchers are off (they cost ~67 MB each), so a backend whose orchestrator died must stop on its own.
/// The real backend binary is started by a bash parent that the test then ends.
/// </summary>
public sealed class OrchestratorWatchTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_backend_stops_when_the_process_that_started_it_is_gone_only_when_told_to(bool exitWithOrchestrator)
    {
        using var redis = new PlainRedisServer(password: false, aof: false);
        var port = FreePort.Next();
        var start = new ProcessStartInfo("bash")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            // bash starts the backend in the background, prints its pid and lives until its stdin closes.
            ArgumentList = { "-c", "\"$0\" >/dev/null 2>&1 </dev/null & echo $!; read -r _", BackendLaunch.BinaryPath(new Projects.DiveAspire_Backend().ProjectPath) },
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ConnectionStrings__cache"] = $"127.0.0.1:{redis.Port}";
        start.Environment["ConnectionStrings__blacklist"] = $"127.0.0.1:{redis.Port}";
        start.Environment["Dive__InstanceCode"] = "USA";
        start.Environment["Dive__Federation"] = "USA";
        start.Environment["Dive__ExitWithOrchestrator"] = exitWithOrchestrator ? "true" : "false";
        start.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");

        using var parent = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var backend = int.Parse((await parent.StandardOutput.ReadLineAsync())!);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(2) };
            await HttpAssertions.EventuallyAsync(() => ReadyAsync(http), TimeSpan.FromSeconds(60), "the backend to become ready");
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.True(LocalProcesses.IsRunning(backend), "the backend stopped while its parent was still there");

            parent.StandardInput.Close();
            await parent.WaitForExitAsync();

            if (exitWithOrchestrator)
            {
                await HttpAssertions.EventuallyAsync(() => Task.FromResult(!LocalProcesses.IsRunning(backend)), TimeSpan.FromSeconds(15), "the orphaned backend to stop");
            }
            else
            {
                await Task.Delay(TimeSpan.FromSeconds(4));
                Assert.True(LocalProcesses.IsRunning(backend), "without Dive:ExitWithOrchestrator the backend must not stop on its own");
            }
        }
        finally
        {
            if (LocalProcesses.IsRunning(backend))
            {
                Process.GetProcessById(backend).Kill();
            }
            if (!parent.HasExited)
            {
                parent.Kill();
            }
        }
    }

    private static async Task<bool> ReadyAsync(HttpClient http)
    {
        try
        {
            using var response = await http.GetAsync("/health/ready");
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
