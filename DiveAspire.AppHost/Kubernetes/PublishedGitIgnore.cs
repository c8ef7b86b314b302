namespace DiveAspire.AppHost.Kubernetes;

/// <summary>
/// The output's <c>.gitignore</c>: it must ignore the secret values before any is written (a publish that fails half-way
/// must not leave values a <c>git add -A</c> would pick up), and it keeps whatever the output's owner already ignores.
/// </summary>
public static class PublishedGitIgnore
{
    public const string SecretValuesPattern = "secrets/*/values/";
    private const string Comment = "# Secret values: written only by `./dive publish kubernetes --secrets-from user-secrets`. Never commit them.";

    /// <summary>Adds the secret values' pattern to <c>DIR/.gitignore</c> unless it is there; other lines are kept as they are.</summary>
    public static async Task EnsureAsync(string output, CancellationToken ct)
    {
        Directory.CreateDirectory(output);
        var path = Path.Combine(output, ".gitignore");
        var existing = File.Exists(path) ? await File.ReadAllTextAsync(path, ct).ConfigureAwait(false) : "";
        var lines = existing.Split('\n').Select(l => l.TrimEnd('\r').Trim());
        if (lines.Contains(SecretValuesPattern, StringComparer.Ordinal))
        {
            return;
        }
        var separator = existing.Length == 0 || existing.EndsWith('\n') ? "" : "\n";
        await File.WriteAllTextAsync(path, $"{existing}{separator}{Comment}\n{SecretValuesPattern}\n", ct).ConfigureAwait(false);
    }
}
