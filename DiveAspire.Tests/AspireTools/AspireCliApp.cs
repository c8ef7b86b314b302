using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using DiveAspire.Cli;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.AspireTools;

[CollectionDefinition(Name)]
public sealed class AspireCliAppCollection : ICollectionFixture<AspireCliApp>
{
    public const string Name = "aspire CLI app";
}

/// <summary>
/// The app as an Aspire developer runs it: <c>aspire start -- --spokes rou</c> (what <c>aspire run</c> does, in the
/// background) from the repository root, with the aspire CLI that <c>./dive test</c> installs into <c>.dive/tools</c>.
/// Monitoring is on, host ports are random (never the port plan), data and passwords are this run's own.
/// <para>
/// The CLI finds a running AppHost through the Unix socket every AppHost opens under <c>$HOME/.aspire/cli/bch/</c>
/// (whether started by <c>aspire run</c>, <c>dotnet run</c> or <c>./dive up</c>). The CLI and the AppHost here run
/// with a private <c>HOME</c>, so they see only each other: never a developer's <c>./dive up</c> or another
/// worktree's test, which would make <c>aspire resource</c> ask which AppHost to use.
/// </para>
/// Everything started is stopped at the end, even on failure: <c>aspire stop</c>, then the AppHost and CLI processes
/// by pid, then any process left whose command line names this run's private directory.
/// </summary>
public sealed class AspireCliApp : IAsyncLifetime
{
    public const string Spokes = "rou";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    private readonly string _root = Directory.CreateTempSubdirectory("dive-aspire-cli-").FullName;
    private int? _appHostPid;
    private int? _cliPid;

    public static string RepositoryRoot => Path.GetDirectoryName(AppHostArgs.InstancesDirectory)!;
    public static string AppHostProject => Path.Combine(RepositoryRoot, "DiveAspire.AppHost", "DiveAspire.AppHost.csproj");
    public static string AspireExecutable => Path.Combine(RepositoryRoot, ".dive", "tools", "aspire");

    public TestSecrets Secrets { get; } = new();
    public DiveTopology Topology { get; } = DiveTopology.Load(AppHostArgs.InstancesDirectory, Spokes);
    public string DashboardLoginUrl { get; private set; } = "";

    /// <summary>Every resource the app should run: each Redis, each backend and the three monitoring processes.</summary>
    public IReadOnlyList<string> ExpectedResources =>
        [.. Topology.RedisStores.Select(s => s.ResourceName), .. Topology.Instances.Select(i => i.BackendResourceName),
         MonitoringNames.RedisExporter, MonitoringNames.Prometheus, MonitoringNames.Alertmanager];

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(AspireExecutable),
            $"the aspire CLI is not installed at {AspireExecutable}: ./dive test installs it (dotnet tool install Aspire.Cli --tool-path .dive/tools).");
        try
        {
            var start = await RunAsync(StartTimeout,
                ["start", "--apphost", AppHostProject, "--no-build", "--format", "Json", "--",
                 "--spokes", Spokes, "DcpPublisher:RandomizePorts=true", $"Dive:DataPath={Path.Combine(_root, "data")}"]);
            Assert.True(start.ExitCode == 0, $"aspire start failed ({start.ExitCode}):\n{start.Out}\n{start.Error}");
            var started = start.Json;
            _appHostPid = started.GetProperty("appHostPid").GetInt32();
            _cliPid = started.GetProperty("cliPid").GetInt32();
            DashboardLoginUrl = started.GetProperty("dashboardUrl").GetString()!;
            Assert.DoesNotContain(":15080", DashboardLoginUrl);
            await WaitAllRunningAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls <c>aspire describe</c> until every expected resource is Running and Healthy.</summary>
    private async Task WaitAllRunningAsync()
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        var last = "";
        while (true)
        {
            var describe = await RunAsync(TimeSpan.FromMinutes(1), ["describe", "--apphost", AppHostProject, "--format", "Json"], showsBackendEnvironment: true);
            if (describe.ExitCode == 0)
            {
                var states = Resources(describe.Json).ToDictionary(r => r.GetProperty("displayName").GetString()!,
                    r => $"{r.GetProperty("state").GetString()}/{(r.TryGetProperty("healthStatus", out var h) ? h.GetString() : null)}");
                last = string.Join(", ", states.Select(s => $"{s.Key} {s.Value}"));
                if (ExpectedResources.All(name => states.GetValueOrDefault(name) == "Running/Healthy"))
                {
                    return;
                }
            }
            else
            {
                last = describe.Error;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not every resource was Running and Healthy within {StartTimeout.TotalMinutes} min: {last}\n{LogTail()}");
            }
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
    }

    /// <summary>The resources of <c>aspire describe --format Json</c>, parameters left out.</summary>
    public static IEnumerable<JsonElement> Resources(JsonElement describe) =>
        (describe.ValueKind == JsonValueKind.Array ? describe : describe.GetProperty("resources")).EnumerateArray()
            .Where(r => r.GetProperty("resourceType").GetString() != "Parameter");

    /// <summary>
    /// The passwords of the Redis users no process holds in its environment (admin, operator, exporter): never printed,
    /// not even by <c>aspire describe</c>, which shows each resource's environment, as the dashboard does, so the
    /// backends' own connection strings and keys (the one exception the README names).
    /// </summary>
    public IEnumerable<string> OperatorSecrets => Topology.RedisStores.SelectMany(s => RedisAcl.Users(s, Topology))
        .Where(u => u.Role != RedisUserRole.Backend).Select(Secrets.For);

    /// <summary>
    /// The AppHost's process and every process under it (DCP, Redis, backends, monitoring), by /proc's parent links; DCP's
    /// API server detaches from the AppHost (its parent is init) and is found by the <c>--monitor &lt;AppHost pid&gt;</c> it runs with.
    /// </summary>
    public IReadOnlyList<int> AppHostProcessTree()
    {
        Assert.True(_appHostPid is not null, "aspire start reported no AppHost pid");
        var parents = new Dictionary<int, int>();
        var monitors = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid))
                {
                    if (LocalProcesses.ParentPid(pid) is { } parent)
                    {
                        parents[pid] = parent;
                    }
                    var arguments = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                    var monitor = Array.IndexOf(arguments, "--monitor");
                    if (monitor >= 0 && monitor + 1 < arguments.Length && int.TryParse(arguments[monitor + 1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var monitored))
                    {
                        monitors[pid] = monitored;
                    }
                }
            }
            catch (IOException)
            {
                // exited meanwhile
            }
        }
        var tree = new List<int> { _appHostPid.Value };
        for (var i = 0; i < tree.Count; i++)
        {
            tree.AddRange(parents.Where(p => p.Value == tree[i]).Select(p => p.Key)
                .Concat(monitors.Where(m => m.Value == tree[i]).Select(m => m.Key)).Where(pid => !tree.Contains(pid)));
        }
        return tree;
    }

    /// <summary>The user whose password the AppHost is given only by the original's variable (REDIS_PASSWORD_BLACKLIST_OPERATOR).</summary>
    public RedisUser OriginalVariableUser => RedisAcl.Operator(Topology.Blacklist);

    /// <summary>The app's data directory (each Redis's ACL file, the state file).</summary>
    public string DataPath => Path.Combine(_root, "data");

    /// <summary>The AppHost's pid, as aspire start reported it.</summary>
    public int AppHostPid => _appHostPid ?? throw new InvalidOperationException("aspire start reported no AppHost pid");

    /// <summary>Runs the aspire CLI with this run's private HOME and passwords; by default nothing it prints may contain any of them.</summary>
    public async Task<AspireRun> RunAsync(TimeSpan timeout, IEnumerable<string> args, bool showsBackendEnvironment = false)
    {
        var info = new ProcessStartInfo(AspireExecutable)
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        // The CLI's own flags go before "--": what follows it is the AppHost's.
        var list = args.ToList();
        var separator = list.IndexOf("--") is var i and >= 0 ? i : list.Count;
        list.InsertRange(separator, ["--non-interactive", "--nologo"]);
        foreach (var arg in list)
        {
            info.ArgumentList.Add(arg);
        }
        var home = Path.Combine(_root, "home");
        Directory.CreateDirectory(home);
        info.Environment["HOME"] = home;
        // The machine's NuGet cache (the CLI evaluates the AppHost project); nothing is downloaded again.
        info.Environment["NUGET_PACKAGES"] = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        info.Environment["ASPIRE_CLI_TELEMETRY_OPTOUT"] = "true";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["NO_COLOR"] = "1";
        // The passwords reach the AppHost as Aspire parameters through the environment, never as arguments.
        foreach (var parameter in Secrets.AsArguments(Topology).Where(p => !p.StartsWith($"Parameters:{OriginalVariableUser.PasswordParameterName}=", StringComparison.Ordinal)))
        {
            var eq = parameter.IndexOf('=');
            info.Environment[parameter[..eq].Replace(":", "__", StringComparison.Ordinal)] = parameter[(eq + 1)..];
        }
        // One only by the original's variable, as the README allows.
        info.Environment[OriginalVariableUser.PasswordEnvironmentVariable] = Secrets.For(OriginalVariableUser);

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"aspire {string.Join(' ', info.ArgumentList)} did not finish within {timeout.TotalSeconds} s.");
        }
        var run = new AspireRun(process.ExitCode, await stdout, await stderr);
        foreach (var secret in showsBackendEnvironment ? OperatorSecrets : Secrets.AllValues)
        {
            Assert.DoesNotContain(secret, run.Out + run.Error);
        }
        return run;
    }

    private string LogTail()
    {
        var logs = Path.Combine(_root, "home", ".aspire", "logs");
        var latest = Directory.Exists(logs) ? new DirectoryInfo(logs).GetFiles("*detach-child*").OrderBy(f => f.LastWriteTimeUtc).LastOrDefault() : null;
        return latest is null ? "(no CLI log)" : $"last lines of {latest.Name}:\n" + string.Join('\n', File.ReadLines(latest.FullName).TakeLast(30));
    }

    public async Task DisposeAsync()
    {
        if (_appHostPid is not null)
        {
            try
            {
                await RunAsync(TimeSpan.FromSeconds(90), ["stop", "--apphost", AppHostProject]);
            }
            catch (Exception ex) when (ex is TimeoutException or Xunit.Sdk.XunitException)
            {
                // Stopped by pid below.
            }
        }
        foreach (var pid in new[] { _appHostPid, _cliPid }.OfType<int>())
        {
            await StopProcessAsync(pid);
        }
        // DCP stops what it ran when the AppHost stops; anything left (a crash, a start that never reported its pids)
        // names this run's directory: the AppHost and CLI in their arguments, each Redis and Prometheus in theirs.
        foreach (var pid in ProcessesNaming(_root).ToList())
        {
            await StopProcessAsync(pid);
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>SIGTERM (the AppHost then stops everything it started), SIGKILL after 30 s.</summary>
    private static async Task StopProcessAsync(int pid)
    {
        if (!LocalProcesses.IsRunning(pid) || !LocalProcesses.Signal(pid, UnixSignal.Term))
        {
            return;
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (LocalProcesses.IsRunning(pid))
        {
            if (DateTime.UtcNow > deadline)
            {
                LocalProcesses.Signal(pid, UnixSignal.Kill);
                return;
            }
            await Task.Delay(200);
        }
    }

    private static IEnumerable<int> ProcessesNaming(string path)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            string commandLine;
            try
            {
                commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            if (commandLine.Contains(path, StringComparison.Ordinal))
            {
                yield return pid;
            }
        }
    }
}

/// <summary>One run of the aspire CLI, with what it printed (stderr carries its progress lines).</summary>
public sealed record AspireRun(int ExitCode, string Out, string Error)
{
    /// <summary>The JSON document on stdout (after any progress line the CLI printed there).</summary>
    public JsonElement Json
    {
        get
        {
            var start = Regex.Match(Out, @"^[\[{]", RegexOptions.Multiline);
            Assert.True(start.Success, $"expected JSON on stdout, got: {Out}\nstderr: {Error}");
            return JsonDocument.Parse(Out[start.Index..]).RootElement;
        }
    }
}
