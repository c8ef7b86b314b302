using System.Text.Json;
using DiveAspire.Cli;

namespace DiveAspire.Tests.Cli;

/// <summary>One in-process run of the `dive` CLI, with what it printed.</summary>
public sealed record CliRun(int ExitCode, string Out, string Error)
{
    public static async Task<CliRun> RunAsync(IEnumerable<string> secrets, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var code = await DiveCli.RunAsync(args, stdout, stderr, timeout.Token);
        var run = new CliRun(code, stdout.ToString(), stderr.ToString());
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, run.Out + run.Error);
        }
        return run;
    }

    public JsonElement Json
    {
        get
        {
            Assert.True(Out.TrimStart().StartsWith('{'), $"expected JSON on stdout, got: {Out}\nstderr: {Error}");
            return JsonDocument.Parse(Out).RootElement;
        }
    }

    /// <summary>The error as one line (the CLI's contract: no stack trace, no multi-line dump).</summary>
    public string OneLineError
    {
        get
        {
            var lines = Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.True(lines.Length == 1, $"expected a one-line error, got:\n{Error}");
            Assert.StartsWith("dive: ", lines[0]);
            Assert.DoesNotContain("   at ", Error);
            return lines[0];
        }
    }

    public CliRun Expect(int exitCode)
    {
        Assert.True(ExitCode == exitCode, $"expected exit {exitCode}, got {ExitCode}.\nstdout: {Out}\nstderr: {Error}");
        return this;
    }
}
