using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using DiveAspire.Backend.Catalog;
using DiveAspire.Backend.RateLimiting;
using DiveAspire.Backend.Redis;
using StackExchange.Redis;

namespace DiveAspire.Bench;

/// <summary>
/// The headline's ceiling on this machine: a bare ASP.NET Core endpoint (Kestrel and one route, no middleware: no JWT,
/// revocation check, ACP-240, telemetry or logging) that does ROU's Redis work and nothing else, on ROU's own
/// redis-server with ROU's credential and GC settings, and answers ROU's body. <see cref="LimiterAndCatalogPath"/> sends
/// what ROU's full path sends (the limiter's script by EVALSHA and the catalog's HGETALL, pipelined as the prefetch does);
/// <see cref="LimiterPath"/> the limiter's script only, the least any design keeping the exact Redis limiter sends.
/// If these run under the target, no such design reaches it here. The bench's own executable in server mode
/// (<see cref="Argument"/>), a process of its own so its CPU time and GC budget are its own. Killed on dispose.
/// </summary>
public sealed class FloorServer : IAsyncDisposable
{
    public const string Code = "FLOOR";
    public const string Argument = "--floor-server";
    public const string LimiterPath = "/limiter";
    public const string LimiterAndCatalogPath = "/limiter-catalog";

    private const string RedisVariable = "DIVE_FLOOR_REDIS";
    private const string BodyVariable = "DIVE_FLOOR_BODY";

    private static readonly string[] RuntimeSettings =
        ["DOTNET_GC", "DOTNET_gcServer", "DOTNET_Tiered", "DOTNET_TC_", "DOTNET_ReadyToRun", "DOTNET_ThreadPool_", "DOTNET_OSR_"];

    /// <summary>The floor's limiter window in ROU's Redis (the backend's ACL allows dive-v3:*).</summary>
    public const string WindowKey = "dive-v3:bench-floor";

    /// <summary>The backend's environment variable with its instance Redis's connection string (Aspire's ConnectionStrings__&lt;name&gt;).</summary>
    private const string BackendRedisVariable = "ConnectionStrings__" + RedisStores.CacheName;

    private readonly Process _process;
    private readonly string _dir;
    private readonly StopOnce _stop;

    private FloorServer(Process process, string dir, BackendProcess backend)
    {
        _process = process;
        _dir = dir;
        _stop = new StopOnce(StopAsync);
        Backend = backend;
    }

    /// <summary>The server as a wrk target's backend; "its Redis" is ROU's redis-server, which it uses.</summary>
    public BackendProcess Backend { get; }

    /// <summary>
    /// Starts the server next to <paramref name="rou"/> (which must run as a process: its environment gives the Redis
    /// connection string and the GC settings). Null, after one line saying why, when it cannot: the bench goes on without it.
    /// </summary>
    public static async Task<FloorServer?> StartAsync(BackendProcess rou, byte[] body)
    {
        var environment = DiveAspire.Cli.LocalProcesses.Environment(rou.Pid);
        if (!environment.TryGetValue(BackendRedisVariable, out var redis))
        {
            Console.WriteLine($"  no floor: backend {rou.Code} has no {BackendRedisVariable}");
            return null;
        }
        // The runtime's GC, JIT and thread-pool settings the AppHost gives the backend (the gen0 budget, a lever's switch):
        // without them the floor would differ from ROU for a reason ROU does not have. Nothing else (not its environment
        // name, which would bring development middleware, nor hot-reload or startup hooks).
        var runtime = environment.Where(kv => RuntimeSettings.Any(p => kv.Key.StartsWith(p, StringComparison.OrdinalIgnoreCase))).ToDictionary();
        var (floor, error) = await StartAsync(redis, runtime, body, rou.RedisPid);
        if (floor is null)
        {
            Console.WriteLine($"  no floor: its server did not start ({error})");
        }
        return floor;
    }

    /// <summary>The server on <paramref name="redisConnectionString"/>, with these environment variables; else null and the first line it wrote.</summary>
    public static async Task<(FloorServer? Server, string? Error)> StartAsync(string redisConnectionString, IReadOnlyDictionary<string, string> environment, byte[] body, int? redisPid)
    {
        var dir = Directory.CreateTempSubdirectory("dive-bench-floor-").FullName;
        Process process;
        int port;
        try
        {
            var bodyFile = Path.Combine(dir, "body.json");
            await File.WriteAllBytesAsync(bodyFile, body);
            port = LocalRedis.FreePort();
            var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "DiveAspire.Bench"), [Argument])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            start.Environment["DOTNET_ENVIRONMENT"] = "Production";
            start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
            start.Environment[RedisVariable] = redisConnectionString; // the credential in the environment, never in the arguments
            start.Environment[BodyVariable] = bodyFile;
            process = Process.Start(start) ?? throw new InvalidOperationException("the floor server did not start");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Directory.Delete(dir, recursive: true);
            return (null, ex.Message);
        }
        var floor = new FloorServer(process, dir, new BackendProcess(Code, process.Id, new Uri($"http://127.0.0.1:{port}/")) { RedisPid = redisPid });
        StopOnSignal.Register(floor);
        var stderr = process.StandardError.ReadToEndAsync();
        var listening = process.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(listening, Task.Delay(TimeSpan.FromSeconds(30))) == listening && await listening == "listening")
        {
            _ = process.StandardOutput.ReadToEndAsync();
            return (floor, null);
        }
        await floor.DisposeAsync();
        return (null, (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no output");
    }

    /// <summary>The child's side: serves until it is killed. Exit code 2 with one line on stderr when its settings are missing.</summary>
    public static async Task<int> ServeAsync()
    {
        if (Environment.GetEnvironmentVariable(RedisVariable) is not { Length: > 0 } connectionString
            || Environment.GetEnvironmentVariable(BodyVariable) is not { Length: > 0 } bodyFile)
        {
            Console.Error.WriteLine($"dive bench {Argument}: {RedisVariable} and {BodyVariable} must be set (the bench sets them)");
            return 2;
        }
        var body = await File.ReadAllBytesAsync(bodyFile);
        var options = ConfigurationOptions.Parse(connectionString);
        // The backend's client settings, its replies read on the thread pool as the backend's are.
        RedisClientSetup.Configure(options, Code, RedisStores.CacheName);
        options.SocketManager = SocketManager.ThreadPool;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        var db = redis.GetDatabase();
        // Its own key, outside the limiter's prefixes: the floor never shows up as a client in ROU's rate-limit views.
        var window = new FixedWindow.Call(WindowKey, new LimitRule(int.MaxValue, TimeSpan.FromMinutes(1)));
        var hit = window.Arguments(WindowMode.Hit, refusedLately: false);
        await FixedWindow.SendScriptAsync(db, window, hit); // caches the script: every request then sends EVALSHA, as ROU's do

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        async Task AnswerAsync(HttpContext http, Task<RedisResult> limiter, Task<HashEntry[]>? catalog = null)
        {
            var admitted = FixedWindow.Parse(await limiter).Admitted;
            if (catalog is not null)
            {
                await catalog;
            }
            if (!admitted)
            {
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                return;
            }
            http.Response.ContentType = "application/json; charset=utf-8";
            await http.Response.Body.WriteAsync(body);
        }
        app.MapGet(LimiterPath, http => AnswerAsync(http, FixedWindow.StartAsync(db, window, hit)));
        app.MapGet(LimiterAndCatalogPath, http =>
        {
            var catalog = db.HashGetAllAsync(ResourceCatalog.UploadsKey);
            return AnswerAsync(http, FixedWindow.StartAsync(db, window, hit), catalog);
        });
        await app.StartAsync();
        Console.WriteLine("listening");
        await app.WaitForShutdownAsync();
        return 0;
    }

    public ValueTask DisposeAsync() => _stop.RunAsync();

    private async Task StopAsync()
    {
        StopOnSignal.Unregister(this);
        await _process.KillAndDisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
