using System.Diagnostics;

namespace DiveAspire.Tests.Security;

/// <summary>Another local account must not read a Redis's data (AOF/RDB: revocations, OTP, codes) in process runtime.</summary>
[Collection(RevocationSecurityCollection.Name)]
[Trait("Category", "Security")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RedisDataDirectoryAttackTests(RevocationSecurityFixture federation)
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [Fact]
    public async Task Redis_data_directories_are_0700_and_another_account_reads_no_aof()
    {
        // The test's data path is a private temp folder (0700); the real one, .dive/data in the checkout, is not.
        File.SetUnixFileMode(federation.DataPath, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var directories = Directory.GetDirectories(federation.DataPath, "redis-*");
        Assert.Equal(federation.RedisNames.Order(), directories.Select(Path.GetFileName).Order()!);
        foreach (var directory in directories)
        {
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(directory));
            var aof = Directory.GetFiles(directory, "*.aof", SearchOption.AllDirectories);
            Assert.NotEmpty(aof);
            foreach (var file in aof.Concat(Directory.GetFiles(directory, "*.rdb", SearchOption.AllDirectories)))
            {
                // As the unprivileged account 'nobody' (the tests run as root, who reads anything).
                var (exit, error) = await RunAsNobodyAsync("cat", file);
                Assert.True(exit != 0, $"'nobody' could read {file}");
                Assert.Contains("Permission denied", error);
            }
        }
    }

    private static async Task<(int Exit, string Error)> RunAsNobodyAsync(string command, string argument)
    {
        var start = new ProcessStartInfo("setpriv") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", command, argument })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, error);
    }
}
