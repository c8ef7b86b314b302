using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DiveAspire.Topology.Tls;

/// <summary>
/// Validates a server's certificate against one CA only (the deployment's, or the hub's for a joined spoke) and the host
/// name dialled: the machine's own trust store is never consulted, so a certificate for the same name from any other CA
/// (a public one, a TLS-inspection root) is refused. Used by every client of a Redis that speaks TLS.
/// </summary>
public static class PinnedCertificateAuthority
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>A callback for SslStream / StackExchange.Redis's <c>CertificateValidation</c>; the CA file is read once, now.</summary>
    public static RemoteCertificateValidationCallback Validator(string caCertificatePath)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(caCertificatePath));
        return (_, certificate, _, errors) => IsValid(ca, certificate, errors);
    }

    /// <summary>
    /// True when the certificate names the host (no name error from TLS) and chains to <paramref name="ca"/> alone,
    /// whatever the platform's chain verdict was (it used the system store).
    /// </summary>
    public static bool IsValid(X509Certificate2 ca, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Only the given CA decides: no fetching of intermediates from URLs the server's certificate names.
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ServerAuthentication));
        return chain.Build(leaf);
    }
}
