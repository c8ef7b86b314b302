using System.Diagnostics;
using Aspire.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiveAspire.Tests.Integration;

/// <summary>A redis-server left on a data directory by a crashed orchestrator is stopped before a new one starts there; others are left alone.</summary>
public sealed class LeftoverRedisTests
{
    [Fact]
    public async Task Only_the_redis_server_running_on_that_data_directory_is_stopped()
    {
        var ours = Directory.CreateTempSubdirectory("dive-leftover-ours-").FullName;
        var other = Directory.CreateTempSubdirectory("dive-leftover-other-").FullName;
        using var leftover = StartRedis(ours);
        using var unrelated = StartRedis(other);
        try
        {
            await Task.Delay(500); // redis-server is running (and has rewritten its command line)
            Assert.False(leftover.HasExited);

            Assert.Equal(1, await LeftoverRedis.StopAsync(ours, NullLogger.Instance, CancellationToken.None));

            Assert.True(leftover.WaitForExit(TimeSpan.FromSeconds(5)), "the leftover redis-server still runs");
            Assert.False(unrelated.HasExited, "a redis-server on another directory was stopped");
            Assert.Equal(0, await LeftoverRedis.StopAsync(ours, NullLogger.Instance, CancellationToken.None));
        }
        finally
        {
            foreach (var process in new[] { leftover, unrelated }.Where(p => !p.HasExited))
            {
                process.Kill();
                process.WaitForExit();
            }
            Directory.Delete(ours, recursive: true);
            Directory.Delete(other, recursive: true);
        }
    }

    private static Process StartRedis(string directory)
    {
        var start = new ProcessStartInfo("redis-server") { WorkingDirectory = directory, UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[] { "--port", "0", "--unixsocket", Path.Combine(directory, "redis.sock"), "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        process.BeginOutputReadLine();
        return process;
    }
}
