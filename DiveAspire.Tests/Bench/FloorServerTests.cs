using System.Diagnostics;
using DiveAspire.Backend.Catalog;
using DiveAspire.Bench;
using StackExchange.Redis;

namespace DiveAspire.Tests.Bench;

/// <summary>
/// The bench's floor server (the headline's ceiling: ROU's Redis commands behind a bare endpoint) as its own process on a
/// real redis-server: it must send exactly the commands it claims to, or the ceiling it reports means nothing.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FloorServerTests
{
    private const string Gen0Budget = "0x2000000";

    [Fact]
    public async Task It_sends_the_limiters_script_and_the_catalog_read_per_request_and_answers_the_body_it_was_given()
    {
        await using var redis = await LocalRedis.StartAsync();
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{redis.Port},password={redis.Password},allowAdmin=true");
        await admin.GetDatabase().HashSetAsync(ResourceCatalog.UploadsKey, [new("DOC-1", "{}"), new("DOC-2", "{}")]);
        var body = "{\"count\":2,\"resources\":[]}"u8.ToArray();

        // A stand-in for ROU's backend: the floor takes the Redis connection string and the runtime settings from its environment.
        using var backend = Process.Start(new ProcessStartInfo("sleep", ["120"])
        {
            UseShellExecute = false,
            Environment =
            {
                ["ConnectionStrings__cache"] = $"127.0.0.1:{redis.Port},password={redis.Password}",
                ["DOTNET_GCgen0size"] = Gen0Budget,
                ["DOTNET_TieredPGO"] = "0",
                ["DOTNET_ENVIRONMENT"] = "Development",
            },
        })!;
        FloorServer? floor;
        try
        {
            floor = await FloorServer.StartAsync(new BackendProcess("ROU", backend.Id, new Uri("http://127.0.0.1:1/")) { RedisPid = redis.Pid }, body);
        }
        finally
        {
            backend.Kill();
            await backend.WaitForExitAsync();
        }
        Assert.NotNull(floor);
        int pid;
        await using (floor)
        {
            pid = floor.Backend.Pid;
            var server = admin.GetServer("127.0.0.1", redis.Port);
            using var http = new HttpClient { BaseAddress = floor.Backend.OwnUri, Timeout = TimeSpan.FromSeconds(10) };

            var before = await CallsAsync(server);
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(body, await http.GetByteArrayAsync(FloorServer.LimiterAndCatalogPath));
            }
            var afterBoth = await CallsAsync(server);
            Assert.Equal(5, afterBoth.EvalSha - before.EvalSha);
            Assert.Equal(5, afterBoth.HGetAll - before.HGetAll);

            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(body, await http.GetByteArrayAsync(FloorServer.LimiterPath));
            }
            var afterLimiter = await CallsAsync(server);
            Assert.Equal(3, afterLimiter.EvalSha - afterBoth.EvalSha);
            Assert.Equal(0, afterLimiter.HGetAll - afterBoth.HGetAll);

            // One window of its own, outside the limiter's prefixes: 8 requests and the start's EVAL that caches the script.
            Assert.Equal(9, (long)await admin.GetDatabase().StringGetAsync(FloorServer.WindowKey));

            // The backend's runtime settings reach it, where the runtime is does not; the Redis credential is in its
            // environment, never in its command line.
            var environment = DiveAspire.Cli.LocalProcesses.Environment(pid);
            Assert.Equal(Gen0Budget, environment["DOTNET_GCgen0size"]);
            Assert.Equal("0", environment["DOTNET_TieredPGO"]);
            Assert.Equal("Production", environment["DOTNET_ENVIRONMENT"]);
            Assert.DoesNotContain(redis.Password, await File.ReadAllTextAsync($"/proc/{pid}/cmdline"));
        }
        Assert.False(Directory.Exists($"/proc/{pid}"), $"the floor server (pid {pid}) still runs after dispose");
    }

    private static async Task<(long EvalSha, long HGetAll)> CallsAsync(IServer server)
    {
        var stats = (await server.InfoAsync("commandstats")).SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value);
        long Calls(string command) => stats.TryGetValue($"cmdstat_{command}", out var value)
            ? long.Parse(value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture)
            : 0;
        return (Calls("evalsha"), Calls("hgetall"));
    }
}
