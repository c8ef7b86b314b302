using System.Diagnostics;
using System.Security.Cryptography;
using DiveAspire.Topology;

namespace DiveAspire.Bench;

/// <summary>
/// `dotnet run --project DiveAspire.AppHost` (warm build) with a generated instances/ folder, until every backend
/// answers /health/ready (each waits for its Redis) and every monitoring endpoint is ready; then the whole app's memory.
/// </summary>
public sealed class StartupRun(string repoRoot, IReadOnlyList<string> spokeCodes, bool monitoring, IReadOnlyList<string> extraArgs)
{
    public sealed record Result(int Spokes, double SecondsToHealthy, ProcessMemory.Usage Memory);

    public async Task<Result> RunAsync(TimeSpan timeout)
    {
        var work = Directory.CreateTempSubdirectory("dive-bench-startup-").FullName;
        var instances = Path.Combine(work, "instances");
        WriteInstances(instances);
        var topology = DiveTopology.Load(instances);

        var args = new List<string>
        {
            "run", "--project", Path.Combine(repoRoot, "DiveAspire.AppHost"), "--launch-profile", "http", "--",
            $"Dive:InstancesPath={instances}", $"Dive:DataPath={Path.Combine(work, "data")}", "Dive:Runtime=process",
            $"Dive:Monitoring={monitoring.ToString().ToLowerInvariant()}",
        };
        // Fresh secrets per run: the benchmark must not write into a developer's user secrets.
        args.AddRange(topology.RedisStores.Select(s => $"Parameters:{s.PasswordParameterName}={Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}"));
        args.Add($"Parameters:{Federation.DevSigningKeyParameter}={Convert.ToHexString(RandomNumberGenerator.GetBytes(32))}");
        args.AddRange(extraArgs);

        var start = Stopwatch.GetTimestamp();
        var psi = new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var dotnetRun = Process.Start(psi) ?? throw new InvalidOperationException("dotnet run did not start");
        dotnetRun.OutputDataReceived += (_, _) => { };
        dotnetRun.ErrorDataReceived += (_, _) => { };
        dotnetRun.BeginOutputReadLine();
        dotnetRun.BeginErrorReadLine();
        try
        {
            var urls = topology.Instances.Select(i => $"http://localhost:{PortPlan.Backend(i.Country)}/health/ready").ToList();
            if (monitoring)
            {
                urls.Add($"http://localhost:{PortPlan.Prometheus}/-/ready");
                urls.Add($"http://localhost:{PortPlan.Alertmanager}/-/ready");
                urls.Add($"http://localhost:{PortPlan.RedisExporter}/metrics");
            }
            await WaitAllReadyAsync(urls, timeout, dotnetRun);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            await Task.Delay(TimeSpan.FromSeconds(3)); // let start-up allocations settle before measuring memory
            var appHost = FindAppHost(dotnetRun.Id) ?? dotnetRun.Id;
            return new Result(spokeCodes.Count, seconds, ProcessMemory.OfAppTree(appHost));
        }
        finally
        {
            await StopAsync(dotnetRun);
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private void WriteInstances(string instances)
    {
        Directory.CreateDirectory(Path.Combine(instances, "usa"));
        File.Copy(Path.Combine(repoRoot, "instances", "usa", "instance.json"), Path.Combine(instances, "usa", "instance.json"));
        foreach (var code in spokeCodes)
        {
            var dir = Path.Combine(instances, code.ToLowerInvariant());
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "instance.json"), $$"""{"code":"{{code}}","role":"spoke"}""");
        }
    }

    private static async Task WaitAllReadyAsync(List<string> urls, TimeSpan timeout, Process owner)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var pending = new HashSet<string>(urls);
        var deadline = Stopwatch.StartNew();
        while (pending.Count > 0)
        {
            if (owner.HasExited)
            {
                throw new InvalidOperationException($"the AppHost exited with code {owner.ExitCode} before becoming healthy");
            }
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"not healthy after {timeout.TotalSeconds:F0} s: {string.Join(", ", pending.Take(5))}");
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
    }

    /// <summary>`dotnet run` ignores SIGTERM when not in a terminal; the AppHost itself must be signalled.</summary>
    private static int? FindAppHost(int dotnetRunPid)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                    if (parent == dotnetRunPid && File.ReadAllText(Path.Combine(dir, "cmdline")).Contains("DiveAspire.AppHost", StringComparison.Ordinal))
                    {
                        return pid;
                    }
                }
                catch (IOException)
                {
                }
            }
        }
        return null;
    }

    private static async Task StopAsync(Process dotnetRun)
    {
        if (FindAppHost(dotnetRun.Id) is { } appHost)
        {
            Process.Start("kill", ["-TERM", appHost.ToString()])?.WaitForExit();
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        try
        {
            await dotnetRun.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            dotnetRun.Kill(entireProcessTree: true);
        }
        await Task.Delay(TimeSpan.FromSeconds(5)); // DCP removes its processes shortly after the AppHost exits
    }
}
