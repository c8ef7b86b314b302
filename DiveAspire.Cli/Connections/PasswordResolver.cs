using System.Diagnostics;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Connections;

public enum SecretsSource { Local, Gcp }

/// <summary>
/// A Redis password: <c>REDIS_PASSWORD_&lt;LABEL&gt;</c>, else the AppHost's user secrets, else (with
/// <c>--secrets gcp</c>) Google Secret Manager through the gcloud CLI. Returns the value and where it came from.
/// </summary>
public static class PasswordResolver
{
    public static (string? Password, string Source) Resolve(RedisStoreSpec spec, SecretsSource secrets)
    {
        if (Environment.GetEnvironmentVariable(spec.PasswordEnvironmentVariable) is { Length: > 0 } fromEnv)
        {
            return (fromEnv, spec.PasswordEnvironmentVariable);
        }
        var userSecret = $"Parameters:{spec.PasswordParameterName} in the AppHost user secrets ({AppHostSecrets.SecretsFile})";
        if (AppHostSecrets.Parameter(spec.PasswordParameterName) is { Length: > 0 } fromUserSecrets)
        {
            return (fromUserSecrets, userSecret);
        }
        if (secrets == SecretsSource.Gcp)
        {
            return (FromGcloud(spec), $"GCP secret {spec.GcpSecretName}");
        }
        return (null, $"none found: set {spec.PasswordEnvironmentVariable}, run './dive up' once so the AppHost generates {spec.PasswordParameterName}, or pass --secrets gcp");
    }

    private static string FromGcloud(RedisStoreSpec spec)
    {
        var start = new ProcessStartInfo("gcloud")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "secrets", "versions", "access", "latest", "--secret", spec.GcpSecretName })
        {
            start.ArgumentList.Add(arg);
        }
        try
        {
            using var process = Process.Start(start) ?? throw new CliException("could not start gcloud.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
                throw new CliException($"gcloud did not answer within 30 s reading secret {spec.GcpSecretName}.");
            }
            if (process.ExitCode != 0)
            {
                var reason = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit code {process.ExitCode}";
                throw new CliException($"gcloud could not read secret {spec.GcpSecretName}: {reason}");
            }
            return stdout.Result.TrimEnd('\r', '\n');
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CliException("--secrets gcp needs the gcloud CLI on PATH (https://cloud.google.com/sdk/docs/install).");
        }
    }
}
