using DiveAspire.AppHost.Kubernetes;

namespace DiveAspire.Tests.Unit;

/// <summary>The publish output's .gitignore: merged with an existing one, the secret values' pattern once.</summary>
public sealed class PublishedGitIgnoreTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("dive-gitignore-").FullName;
    private string GitIgnore => Path.Combine(output, ".gitignore");

    [Fact]
    public async Task A_new_output_gets_the_secret_values_pattern()
    {
        await PublishedGitIgnore.EnsureAsync(output, CancellationToken.None);
        Assert.Contains(PublishedGitIgnore.SecretValuesPattern, await File.ReadAllLinesAsync(GitIgnore));
    }

    [Fact]
    public async Task An_existing_gitignore_keeps_its_lines_and_gets_the_pattern_once()
    {
        await File.WriteAllTextAsync(GitIgnore, "*.local.yaml\r\n# ours\nbuild/");
        await PublishedGitIgnore.EnsureAsync(output, CancellationToken.None);
        await PublishedGitIgnore.EnsureAsync(output, CancellationToken.None);
        var lines = (await File.ReadAllLinesAsync(GitIgnore)).ToList();
        Assert.Equal(["*.local.yaml", "# ours", "build/"], lines.Take(3));
        Assert.Single(lines, PublishedGitIgnore.SecretValuesPattern);
    }

    [Fact]
    public async Task A_gitignore_that_already_ignores_the_values_is_left_as_it_is()
    {
        const string text = "secrets/*/values/\nother\n";
        await File.WriteAllTextAsync(GitIgnore, text);
        await PublishedGitIgnore.EnsureAsync(output, CancellationToken.None);
        Assert.Equal(text, await File.ReadAllTextAsync(GitIgnore));
    }

    public void Dispose() => Directory.Delete(output, recursive: true);
}
