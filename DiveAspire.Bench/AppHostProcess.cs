using System.Diagnostics;
using System.Security.Cryptography;
using DiveAspire.Cli;
using DiveAspire.Cli.AppState;
using DiveAspire.Topology;

namespace DiveAspire.Bench;

/// <summary>
/// The real thing a developer runs: `dotnet run --project DiveAspire.AppHost` (warm build) on the fixed port plan,
/// with a generated instances/ folder and fresh secrets (the benchmark never writes into a developer's user secrets).
/// </summary>
public sealed class AppHostProcess : IAsyncDisposable
{
    private readonly Process _dotnetRun;
    private readonly string _work;

    private AppHostProcess(Process dotnetRun, string work, DiveTopology topology, string signingKey, long startTimestamp)
    {
        _dotnetRun = dotnetRun;
        _work = work;
        Topology = topology;
        SigningKey = signingKey;
        StartTimestamp = startTimestamp;
        _stop = new StopOnce(StopAsync);
    }

    public DiveTopology Topology { get; }
    public string SigningKey { get; }
    public long StartTimestamp { get; }

    /// <summary>The state file this AppHost keeps (what <c>dive ps</c> reads): resource names, pids, URLs.</summary>
    public string StatePath => Path.Combine(_work, "data", DiveAspire.Cli.AppState.AppHostState.FileName);

    /// <summary>
    /// The configuration the bench itself was built with (./dive bench: Release), so the AppHost and with it every backend
    /// run the same build (BackendLaunch runs the backend from the AppHost's own configuration).
    /// </summary>
    public static string BuildConfiguration =>
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Release";

    public static Uri BackendUri(string code) => new($"http://localhost:{PortPlan.Backend(NatoCatalog.Get(code))}");

    /// <param name="secrets">secret parameters (name: value) beyond the generated ones, which they override</param>
    public static AppHostProcess Start(string repoRoot, IReadOnlyList<string> spokeCodes, bool monitoring, IEnumerable<string> extraArgs,
        IReadOnlyDictionary<string, string>? secrets = null)
    {
        var work = Directory.CreateTempSubdirectory("dive-bench-app-").FullName;
        var instances = Path.Combine(work, "instances");
        Directory.CreateDirectory(Path.Combine(instances, "usa"));
        File.Copy(Path.Combine(repoRoot, "instances", "usa", "instance.json"), Path.Combine(instances, "usa", "instance.json"));
        foreach (var code in spokeCodes)
        {
            var dir = Path.Combine(instances, code.ToLowerInvariant());
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "instance.json"), $$"""{"code":"{{code}}","role":"spoke"}""");
        }
        var topology = DiveTopology.Load(instances);
        var signingKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var parameters = new Dictionary<string, string> { [Federation.DevSigningKeyParameter] = signingKey };
        foreach (var store in topology.RedisStores)
        {
            parameters[store.PasswordParameterName] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        }
        foreach (var (name, value) in secrets ?? new Dictionary<string, string>())
        {
            parameters[name] = value;
        }
        var args = new List<string>
        {
            "run", "--project", Path.Combine(repoRoot, "DiveAspire.AppHost"), "-c", BuildConfiguration, "--launch-profile", "http", "--",
            $"Dive:InstancesPath={instances}", $"Dive:DataPath={Path.Combine(work, "data")}", "Dive:Runtime=process",
            $"Dive:Monitoring={monitoring.ToString().ToLowerInvariant()}",
        };
        args.AddRange(extraArgs);

        var start = Stopwatch.GetTimestamp();
        var process = Process.Start(StartInfo(args, parameters)) ?? throw new InvalidOperationException("dotnet run did not start");
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(string? line)
        {
            // The last lines, for the error when the AppHost exits before it is healthy.
            if (line is null)
            {
                return;
            }
            output.Enqueue(line);
            while (output.Count > 20)
            {
                output.TryDequeue(out _);
            }
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new AppHostProcess(process, work, topology, signingKey, start) { _output = output };
        StopOnSignal.Register(app);
        return app;
    }

    /// <summary>
    /// dotnet run with the secret parameters in its environment (<c>Parameters__&lt;name&gt;</c>), never in its arguments:
    /// a command line is readable by every local user. The AppHost removes them from its own environment once read, so
    /// the processes it starts do not inherit them (DiveAspire.AppHost/InheritedSecrets.cs).
    /// </summary>
    private static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string> secretParameters)
    {
        var info = new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in secretParameters)
        {
            info.Environment[$"Parameters__{name}"] = value;
        }
        // dotnet run may build first: no MSBuild node, build server or compiler server may outlive it holding that environment.
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["UseSharedCompilation"] = "false";
        return info;
    }

    /// <summary>Waits until every backend answers /health/ready (each waited for its Redis) and monitoring is ready.</summary>
    public async Task<double> WaitHealthyAsync(bool monitoring, TimeSpan timeout)
    {
        var urls = Topology.Instances.Select(i => $"{BackendUri(i.Code)}health/ready").ToList();
        if (monitoring)
        {
            urls.Add($"http://localhost:{PortPlan.Prometheus}/-/ready");
            urls.Add($"http://localhost:{PortPlan.Alertmanager}/-/ready");
            urls.Add($"http://localhost:{PortPlan.RedisExporter}/metrics");
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var pending = new HashSet<string>(urls);
        var watch = Stopwatch.StartNew();
        while (pending.Count > 0)
        {
            if (_dotnetRun.HasExited)
            {
                throw new InvalidOperationException($"the AppHost exited with code {_dotnetRun.ExitCode} before it was healthy; its last output:{System.Environment.NewLine}{string.Join(System.Environment.NewLine, _output)}");
            }
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"not healthy after {timeout.TotalSeconds:F0} s: {string.Join(", ", pending.Take(5))}; the AppHost's last output:{System.Environment.NewLine}{string.Join(System.Environment.NewLine, _output.TakeLast(8))}");
            }
            foreach (var url in pending.ToList())
            {
                try
                {
                    using var response = await http.GetAsync(url);
                    if (response.IsSuccessStatusCode)
                    {
                        pending.Remove(url);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    // not up yet
                }
            }
            await Task.Delay(100);
        }
        var seconds = Stopwatch.GetElapsedTime(StartTimestamp).TotalSeconds;
        // Native AOT backends can be ready before the AppHost's state file (written every 500 ms by a hosted service that
        // starts after the orchestrator's) lists them: what reads pids from it waits for that too.
        var backends = Topology.Instances.Select(i => $"backend-{i.Code.ToLowerInvariant()}").ToList();
        while (AppHostState.Read(StatePath) is not { } state || backends.Any(b => state.Resources.SingleOrDefault(r => r.Name == b)?.Pid is null))
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"healthy, but the AppHost's state file ({StatePath}) does not list every backend's pid after {timeout.TotalSeconds:F0} s");
            }
            await Task.Delay(100);
        }
        Console.WriteLine($"  (app of {Topology.Instances.Count()} backends healthy after {seconds:F1} s)");
        return seconds;
    }

    public ProcessMemory.Usage Memory() => ProcessMemory.OfAppTree(FindAppHost() ?? _dotnetRun.Id);

    /// <summary>`dotnet run` ignores SIGTERM when not in a terminal; the AppHost itself must be signalled.</summary>
    private int? FindAppHost()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                if (parent == _dotnetRun.Id && File.ReadAllText(Path.Combine(dir, "cmdline")).Contains("DiveAspire.AppHost", StringComparison.Ordinal))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
        }
        return null;
    }

    private readonly StopOnce _stop;
    private System.Collections.Concurrent.ConcurrentQueue<string> _output = new();

    public ValueTask DisposeAsync() => _stop.RunAsync();

    private async Task StopAsync()
    {
        StopOnSignal.Unregister(this);
        var stopping = Stopwatch.StartNew();
        IReadOnlySet<int> tree = new HashSet<int>();
        if (FindAppHost() is { } appHost)
        {
            tree = ProcessMemory.AppTree(appHost);
            LocalProcesses.Signal(appHost, UnixSignal.Term);
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        try
        {
            await _dotnetRun.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _dotnetRun.Kill(entireProcessTree: true);
        }
        _dotnetRun.Dispose();
        var appHostExited = stopping.Elapsed;
        // DCP stops what it started shortly after the AppHost exits; the next start needs the fixed ports back.
        var watch = Stopwatch.StartNew();
        while (tree.Any(LocalProcesses.IsRunning) && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(250);
        }
        foreach (var pid in tree.Where(LocalProcesses.IsRunning))
        {
            Console.Error.WriteLine($"dive bench: process {pid} ({ProcessMemory.ProgramOf(pid)}) of the app outlived it by 30 s; killing it");
            LocalProcesses.Signal(pid, UnixSignal.Kill);
        }
        Console.WriteLine($"  (app stopped in {stopping.Elapsed.TotalSeconds:F1} s: the AppHost exited after {appHostExited.TotalSeconds:F1} s)");
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
