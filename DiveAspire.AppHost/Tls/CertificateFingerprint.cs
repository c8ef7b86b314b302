using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DiveAspire.AppHost.Tls;

/// <summary>A certificate's SHA-256 fingerprint as <c>openssl x509 -fingerprint -sha256</c> prints it (AB:CD:...).</summary>
public static class CertificateFingerprint
{
    public static string Sha256(string certificatePemPath)
    {
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePemPath));
        return Convert.ToHexString(SHA256.HashData(certificate.RawData)).Chunk(2).Select(pair => new string(pair)).Aggregate((a, b) => $"{a}:{b}");
    }

    /// <summary>Upper case with colons, whatever form it was typed in (colons, spaces or none).</summary>
    public static string Normalize(string fingerprint)
    {
        var hex = new string(fingerprint.Where(Uri.IsHexDigit).ToArray()).ToUpperInvariant();
        return string.Join(':', hex.Chunk(2).Select(pair => new string(pair)));
    }
}
