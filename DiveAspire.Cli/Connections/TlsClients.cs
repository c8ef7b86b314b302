using System.Text.Json;
using DiveAspire.Cli.AppState;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Connections;

/// <summary>
/// Which Redis of the running AppHost speaks TLS and the CA certificate that validates it (paths, no secret): written by
/// the AppHost to <c>&lt;data path&gt;/tls-clients.json</c> when it starts (removed when nothing speaks TLS), read by the CLI.
/// </summary>
public static class TlsClients
{
    public const string FileName = "tls-clients.json";

    /// <summary><c>DIVE_REDIS_CA_&lt;LABEL&gt;</c>: the CA certificate of a Redis that speaks TLS, when the AppHost's file is not at hand.</summary>
    public static string CaVariable(RedisStoreSpec spec) => $"DIVE_REDIS_CA_{spec.Label.ToUpperInvariant()}";

    /// <summary><c>DIVE_REDIS_PLAINTEXT=true</c>: send a password in plain TCP to a Redis beyond loopback (a network you trust).</summary>
    public const string PlaintextVariable = "DIVE_REDIS_PLAINTEXT";

    public static string DefaultPath() => Path.Combine(Path.GetDirectoryName(AppHostState.DefaultPath())!, FileName);

    public static void Write(string dataPath, IReadOnlyDictionary<string, string> caCertificateByResource)
    {
        var path = Path.Combine(dataPath, FileName);
        if (caCertificateByResource.Count == 0)
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
            return;
        }
        Directory.CreateDirectory(dataPath);
        File.WriteAllText(path, JsonSerializer.Serialize(caCertificateByResource));
    }

    /// <summary>The CA certificate of <paramref name="spec"/>'s Redis when it speaks TLS, else null.</summary>
    public static string? CaCertificateFor(RedisStoreSpec spec)
    {
        var path = DefaultPath();
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path))?.GetValueOrDefault(spec.ResourceName);
        }
        catch (JsonException)
        {
            throw new CliException($"{path} is not the file the AppHost wrote (invalid JSON); delete it, the AppHost rewrites it at start.");
        }
    }
}
