using System.Collections.Concurrent;
using System.Diagnostics;
using DiveAspire.AppHost;
using DiveAspire.Tests.Cli;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>
/// The real backend binary run on its own (no AppHost) with the environment a test gives it, on a random port; its
/// output is kept for the test to read. Killed on Dispose.
/// </summary>
public sealed class BackendProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    public BackendProcess(IReadOnlyDictionary<string, string> environment)
    {
        Port = FreePort.Next();
        var start = new ProcessStartInfo(BackendLaunch.BinaryPath(new Projects.DiveAspire_Backend().ProjectPath))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Port}";
        start.Environment["Dive__InstanceCode"] = "USA";
        start.Environment["Dive__Federation"] = "USA";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("the backend did not start");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(5) };
    }

    public int Port { get; }
    public HttpClient Http { get; }
    public string Output => string.Join('\n', _output);
    public bool HasExited => _process.HasExited;
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    public async Task WaitReadyAsync(TimeSpan timeout) =>
        await HttpAssertions.EventuallyAsync(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the backend exited with {_process.ExitCode}:\n{Output}");
            }
            try
            {
                using var response = await Http.GetAsync("/health/ready");
                return response.IsSuccessStatusCode;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, timeout, "the backend to become ready");

    public void Dispose()
    {
        Http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
