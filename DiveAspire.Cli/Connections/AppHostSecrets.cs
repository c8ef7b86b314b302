using System.Text.Json;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Connections;

/// <summary>Reads the secrets the AppHost generated and kept in its user secrets (never prints them).</summary>
public static class AppHostSecrets
{
    public static string SecretsFile =>
        Environment.GetEnvironmentVariable("DIVE_USER_SECRETS_FILE") is { Length: > 0 } file
            ? file
            : Path.Combine(
                Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
                ".microsoft", "usersecrets", Federation.AppHostUserSecretsId, "secrets.json");

    /// <summary>The value of <c>Parameters:&lt;name&gt;</c>, or null when the AppHost has not generated it yet.</summary>
    public static string? Parameter(string name)
    {
        var file = SecretsFile;
        if (!File.Exists(file))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return doc.RootElement.TryGetProperty($"Parameters:{name}", out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            throw new CliException($"{file} is not valid JSON; fix or delete it (the AppHost regenerates missing secrets).");
        }
    }
}
