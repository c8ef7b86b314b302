using System.Diagnostics;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Connections;

public enum SecretsSource { Local, Gcp }

/// <summary>
/// The password of one ACL user of a Redis: its variable (<c>REDIS_PASSWORD_&lt;LABEL&gt;</c> for admin,
/// <c>REDIS_PASSWORD_&lt;LABEL&gt;_OPERATOR</c>, ...), else the AppHost's user secrets, else (with <c>--secrets gcp</c>)
/// Google Secret Manager through the gcloud CLI. Returns the value and where it came from.
/// </summary>
public static class PasswordResolver
{
    public static (string? Password, string Source) Resolve(RedisUser user, SecretsSource secrets)
    {
        if (Environment.GetEnvironmentVariable(user.PasswordEnvironmentVariable) is { Length: > 0 } fromEnv)
        {
            return (fromEnv, user.PasswordEnvironmentVariable);
        }
        var userSecret = $"Parameters:{user.PasswordParameterName} in the AppHost user secrets ({AppHostSecrets.SecretsFile})";
        if (AppHostSecrets.Parameter(user.PasswordParameterName) is { Length: > 0 } fromUserSecrets)
        {
            return (fromUserSecrets, userSecret);
        }
        if (secrets == SecretsSource.Gcp)
        {
            return (FromGcloud(user.GcpSecretName), $"GCP secret {user.GcpSecretName}");
        }
        return (null, $"none found: set {user.PasswordEnvironmentVariable}, run './dive up' once so the AppHost generates {user.PasswordParameterName}, or pass --secrets gcp");
    }

    private static string FromGcloud(string secretName)
    {
        var start = new ProcessStartInfo("gcloud")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "secrets", "versions", "access", "latest", "--secret", secretName })
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
                throw new CliException($"gcloud did not answer within 30 s reading secret {secretName}.");
            }
            if (process.ExitCode != 0)
            {
                var reason = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit code {process.ExitCode}";
                throw new CliException($"gcloud could not read secret {secretName}: {reason}");
            }
            return stdout.Result.TrimEnd('\r', '\n');
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CliException("--secrets gcp needs the gcloud CLI on PATH (https://cloud.google.com/sdk/docs/install).");
        }
    }
}
