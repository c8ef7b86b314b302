using DiveAspire.AppHost.Tls;
using DiveAspire.Topology.Tls;
using StackExchange.Redis;

namespace Aspire.Hosting;

/// <summary>
/// A Redis that speaks TLS only (the shared store listening beyond loopback, or a joined hub's store): the CA certificate
/// its clients validate it with and, for a server this AppHost runs, its certificate. Paths only, never a key.
/// </summary>
public sealed record RedisTlsAnnotation(string CaCertificatePath, ServerCertificate? Server = null) : IResourceAnnotation;

public static class RedisTls
{
    /// <summary>
    /// The backend's setting (<c>Dive:Redis:TlsCa:&lt;connection&gt;</c>) naming the CA certificate it validates that store
    /// with, pinned (<see cref="PinnedCertificateAuthority"/>). Not StackExchange.Redis's <c>SERedis_IssuerCertPath</c>:
    /// that one also accepts any certificate the machine's trust store accepts for the name.
    /// </summary>
    public static string CaVariable(string connectionName) => $"Dive__Redis__TlsCa__{connectionName}";

    /// <summary>The CA certificate that validates this Redis, or null when it speaks plain TCP.</summary>
    public static string? TlsCaCertificate(this IResource redis) =>
        redis.Annotations.OfType<RedisTlsAnnotation>().SingleOrDefault()?.CaCertificatePath;

    /// <summary>TLS validated against the Redis's CA (never "accept any certificate") when the Redis speaks TLS.</summary>
    public static ConfigurationOptions WithTlsOf(this ConfigurationOptions options, IResource redis)
    {
        if (redis.TlsCaCertificate() is { } ca)
        {
            options.Ssl = true;
            options.CertificateValidation += PinnedCertificateAuthority.Validator(ca);
        }
        return options;
    }

    /// <summary>
    /// redis-server's TLS settings: the planned (target) port speaks TLS only and <c>--port 0</c> closes the plaintext
    /// one (redis binds one address list for both, so a loopback-only plaintext port is impossible). Clients are not
    /// asked for a certificate: they log in with their ACL password, now inside TLS.
    /// </summary>
    public static IEnumerable<string> ServerArguments(ServerCertificate certificate) =>
    [
        "--tls-cert-file", certificate.CertificatePath,
        "--tls-key-file", certificate.KeyPath,
        "--tls-ca-cert-file", certificate.CaCertificatePath,
        "--tls-auth-clients", "no",
    ];
}
