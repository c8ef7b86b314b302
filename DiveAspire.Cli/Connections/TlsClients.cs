using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
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

    /// <summary>
    /// Validates a server certificate against one CA file and the host name (what StackExchange.Redis's TrustIssuer does),
    /// for the CLI's raw-socket probes.
    /// </summary>
    public static RemoteCertificateValidationCallback Validator(string caCertificatePath) => (_, certificate, _, errors) =>
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null)
        {
            return false;
        }
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(caCertificatePath));
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    };
}
