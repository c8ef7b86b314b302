using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace DiveAspire.Bench;

/// <summary>
/// The original DIVE V3 backend's rate-limited endpoint (OriginalStack/server.js: one Node process, express, the api
/// limiter on express-rate-limit + rate-limit-redis + ioredis) on its own redis-server: the headline's same-run
/// baseline. Its packages come from OriginalStack/package-lock.json, installed once with <c>npm ci</c> into
/// .dive/original-stack (git-ignored). Killed on dispose.
/// </summary>
public sealed class OriginalStack : IAsyncDisposable
{
    public const string Code = "ORIGINAL";

    /// <summary>ioredis 6 requires it (package.json's engines).</summary>
    private const int NodeMajor = 20;

    private readonly Process _node;
    private readonly LocalRedis _redis;
    private readonly string _dir;
    private readonly StopOnce _stop;

    private OriginalStack(Process node, LocalRedis redis, string dir, int port, string nodeVersion)
    {
        NodeVersion = nodeVersion;
        _node = node;
        _redis = redis;
        _dir = dir;
        Backend = new BackendProcess(Code, node.Id, new Uri($"http://127.0.0.1:{port}/")) { RedisPid = redis.Pid };
        _stop = new StopOnce(StopAsync);
    }

    /// <summary>node --version, e.g. v20.20.2.</summary>
    public string NodeVersion { get; }

    /// <summary>The Node process as a wrk target's backend (its CPU time and RSS, and its redis-server's CPU time).</summary>
    public BackendProcess Backend { get; }

    /// <summary>
    /// Installs the packages if needed and starts redis-server and the Node server answering <paramref name="listing"/>
    /// (ROU's own body, so both send the same bytes). Null, after one line saying what is missing, when node or npm is
    /// missing or too old, npm ci fails or the server does not start: the bench goes on without the baseline.
    /// </summary>
    public static async Task<OriginalStack?> StartAsync(string repoRoot, byte[] listing)
    {
        var (nodeVersion, missing) = await InstallAsync(repoRoot);
        if (missing is not null)
        {
            Console.WriteLine($"  no original-stack baseline: {missing}");
            return null;
        }
        var redis = await LocalRedis.StartAsync();
        var dir = Directory.CreateTempSubdirectory("dive-bench-original-").FullName;
        var listingFile = Path.Combine(dir, "listing.json");
        await File.WriteAllBytesAsync(listingFile, listing);
        var port = LocalRedis.FreePort();
        Process node;
        try
        {
            node = Start(repoRoot, listingFile, port, redis);
        }
        catch
        {
            await redis.DisposeAsync();
            Directory.Delete(dir, recursive: true);
            throw;
        }
        var stack = new OriginalStack(node, redis, dir, port, nodeVersion);
        StopOnSignal.Register(stack);
        var stderr = node.StandardError.ReadToEndAsync();
        var listening = node.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(listening, Task.Delay(TimeSpan.FromSeconds(30))) == listening && await listening is { } line && line.StartsWith("listening", StringComparison.Ordinal))
        {
            _ = node.StandardOutput.ReadToEndAsync();
            return stack;
        }
        await stack.DisposeAsync();
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var error = lines.FirstOrDefault(l => l.Contains("Error", StringComparison.Ordinal)) ?? lines.FirstOrDefault() ?? "no output";
        Console.WriteLine($"  no original-stack baseline: its server.js did not start ({error})");
        return null;
    }

    /// <summary>server.js from the cache directory (next to its node_modules); the Redis password in its environment, not its arguments.</summary>
    private static Process Start(string repoRoot, string listingFile, int port, LocalRedis redis) =>
        Process.Start(new ProcessStartInfo("node", [Path.Combine(CacheDirectory(repoRoot), "server.js"), listingFile])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                ["PORT"] = port.ToString(CultureInfo.InvariantCulture),
                ["REDIS_PORT"] = redis.Port.ToString(CultureInfo.InvariantCulture),
                ["REDIS_PASSWORD"] = redis.Password,
                ["RATE_LIMIT_MAX"] = "1000000000", // as WrkRuns.NoApiLimitHit for ours: the limiter's work is measured, not its 429s
                ["NODE_ENV"] = "production",
            },
        }) ?? throw new InvalidOperationException("node did not start");

    private static string SourceDirectory(string repoRoot) => Path.Combine(repoRoot, "DiveAspire.Bench", "OriginalStack");

    private static string CacheDirectory(string repoRoot) => Path.Combine(repoRoot, ".dive", "original-stack");

    /// <summary>
    /// Node's version and what keeps the baseline from running (null: nothing), after installing its packages when the
    /// lock file changed since the last install.
    /// </summary>
    private static async Task<(string NodeVersion, string? Missing)> InstallAsync(string repoRoot)
    {
        var version = await RunAsync("node", ["--version"], repoRoot, TimeSpan.FromSeconds(30));
        if (version is null)
        {
            return ("", $"node is not installed (Node.js {NodeMajor}+ and npm are needed)");
        }
        var nodeVersion = version.Output.Trim();
        if (!Version.TryParse(nodeVersion.TrimStart('v'), out var node) || node.Major < NodeMajor)
        {
            return (nodeVersion, $"node {nodeVersion} is older than {NodeMajor} (ioredis 6 needs Node.js {NodeMajor}+)");
        }
        return (nodeVersion, await NpmCiAsync(repoRoot));
    }

    /// <summary>package-lock.json's packages in .dive/original-stack, unless the same lock was installed there before; null when ready, else why not.</summary>
    private static async Task<string?> NpmCiAsync(string repoRoot)
    {
        var source = SourceDirectory(repoRoot);
        var cache = CacheDirectory(repoRoot);
        var installedLock = Path.Combine(cache, "installed.package-lock.json");
        var sourceLock = Path.Combine(source, "package-lock.json");
        Directory.CreateDirectory(cache);
        foreach (var file in new[] { "package.json", "package-lock.json", "server.js" })
        {
            File.Copy(Path.Combine(source, file), Path.Combine(cache, file), overwrite: true);
        }
        if (File.Exists(installedLock) && Directory.Exists(Path.Combine(cache, "node_modules")) && File.ReadAllText(installedLock) == File.ReadAllText(sourceLock))
        {
            return null;
        }
        Console.WriteLine("  installing the original stack's packages into .dive/original-stack (npm ci, once) ...");
        File.Delete(installedLock);
        var install = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], cache, TimeSpan.FromMinutes(5));
        if (install is null)
        {
            return "npm is not installed (it comes with Node.js)";
        }
        if (install.ExitCode != 0)
        {
            var lines = install.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var reason = lines.FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)) ?? lines.LastOrDefault() ?? $"exit code {install.ExitCode}";
            return $"npm ci in .dive/original-stack failed ({reason})";
        }
        File.Copy(sourceLock, installedLock);
        return null;
    }

    private sealed record Run(int ExitCode, string Output);

    /// <summary>The program's exit code and its stdout + stderr; null when it is not installed. Killed after <paramref name="timeout"/>.</summary>
    private static async Task<Run?> RunAsync(string program, string[] arguments, string workingDirectory, TimeSpan timeout)
    {
        Process process;
        try
        {
            process = Process.Start(new ProcessStartInfo(program, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = workingDirectory,
            }) ?? throw new InvalidOperationException($"{program} did not start");
        }
        catch (Win32Exception)
        {
            return null;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                return new Run(-1, $"error: {program} {string.Join(' ', arguments)} took longer than {timeout.TotalSeconds:F0} s");
            }
            return new Run(process.ExitCode, await stdout + await stderr);
        }
    }

    public ValueTask DisposeAsync() => _stop.RunAsync();

    private async Task StopAsync()
    {
        StopOnSignal.Unregister(this);
        await _node.KillAndDisposeAsync();
        await _redis.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
