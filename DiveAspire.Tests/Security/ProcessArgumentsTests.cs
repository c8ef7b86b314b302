using System.Text;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Security;

/// <summary>
/// Issue 13: no secret of the running federation (any Redis user's password, the signing key) is in the arguments of
/// any process on the machine: whatever the app started (redis-server, backends, DCP) is listed in /proc.
/// </summary>
[Collection(FederationCollection.Name)]
[Trait("Category", "Security")]
public sealed class ProcessArgumentsTests(FederationFixture federation)
{
    [SkippableFact]
    public void No_process_has_a_secret_in_its_command_line()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "reads /proc");
        var secrets = federation.Secrets.AllValues.ToList();
        Assert.True(secrets.Count >= 17, $"expected every user's password of 4 Redis, got {secrets.Count} secrets");
        var read = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _))
            {
                continue;
            }
            string commandLine;
            try
            {
                commandLine = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, "cmdline"))).Replace('\0', ' ');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // exited meanwhile
            }
            read++;
            foreach (var secret in secrets)
            {
                Assert.False(commandLine.Contains(secret, StringComparison.Ordinal), $"pid {Path.GetFileName(dir)} has a secret in its arguments: {commandLine.Replace(secret, "<secret>", StringComparison.Ordinal)}");
            }
        }
        Assert.True(read > 10, $"only {read} processes readable");
    }
}
