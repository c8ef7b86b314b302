using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DiveAspire.AppHost.Tls;

/// <summary>
/// The deployment's development certificate authority: generated once under the data directory (<c>.dive/data/tls/</c>,
/// git-ignored; the directory 0700, private keys 0600), reused across runs, and the issuer of the certificates of the
/// servers this AppHost exposes beyond loopback. Its certificate (<c>ca.pem</c>, no secret) is what a joining spoke is
/// given to validate them. An operator's own CA (<see cref="TlsSettings"/>) takes its place.
/// </summary>
public sealed class DevelopmentCertificateAuthority
{
    public const string CertificateFileName = "ca.pem";
    public const string KeyFileName = "ca.key";

    /// <summary>How long a generated CA and server certificate are valid; both are renewed when less than <see cref="RenewBefore"/> is left.</summary>
    public static readonly TimeSpan CaValidity = TimeSpan.FromDays(5 * 365);
    public static readonly TimeSpan ServerValidity = TimeSpan.FromDays(397);
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private readonly X509Certificate2 _ca;

    private DevelopmentCertificateAuthority(X509Certificate2 ca, string certificatePath)
    {
        _ca = ca;
        CertificatePath = certificatePath;
    }

    /// <summary>The CA certificate (PEM) clients validate against.</summary>
    public string CertificatePath { get; }

    public X509Certificate2 Certificate => _ca;

    /// <summary>The CA in <paramref name="directory"/>, created when missing, unreadable or about to expire.</summary>
    public static DevelopmentCertificateAuthority LoadOrCreate(string directory, TimeProvider? clock = null)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        CertificateFiles.CreatePrivateDirectory(directory);
        var certificatePath = Path.Combine(directory, CertificateFileName);
        var keyPath = Path.Combine(directory, KeyFileName);
        if (File.Exists(certificatePath) || File.Exists(keyPath))
        {
            // Every joined spoke trusts this CA: never replace it behind the operator's back because a file is damaged.
            var existing = CertificateFiles.TryLoad(certificatePath, keyPath) ?? throw new DiveAspire.Topology.TopologyException(
                $"The development CA in {directory} is incomplete or unreadable ({CertificateFileName}, {KeyFileName}): restore it, or delete both " +
                "to create a new one (every joined spoke then needs the new ca.pem).");
            if (existing.NotAfter.ToUniversalTime() - now.UtcDateTime > RenewBefore)
            {
                return new(existing, certificatePath);
            }
            existing.Dispose();
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(
            new X500DistinguishedName($"CN=DiveAspire development CA ({Environment.MachineName}), O=DiveAspire"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(CaValidity));
        CertificateFiles.Write(certificatePath, keyPath, created, key);
        return new(CertificateFiles.TryLoad(certificatePath, keyPath)!, certificatePath);
    }

    /// <summary>An operator's own CA (certificate and key PEM files) issuing the server certificates instead.</summary>
    public static DevelopmentCertificateAuthority FromFiles(string certificatePath, string keyPath) =>
        CertificateFiles.TryLoad(certificatePath, keyPath) is { HasPrivateKey: true } ca
            ? new(ca, Path.GetFullPath(certificatePath))
            : throw new DiveAspire.Topology.TopologyException($"{certificatePath} with {keyPath} is not a PEM certificate with its private key.");

    /// <summary>
    /// The server certificate <c>&lt;name&gt;.pem</c>/<c>&lt;name&gt;.key</c> in <paramref name="directory"/> for exactly
    /// <paramref name="names"/>: reused while it was issued by this CA for the same names and is not about to expire, else issued anew.
    /// </summary>
    public ServerCertificate Issue(string directory, string name, SubjectNames names, TimeProvider? clock = null)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        CertificateFiles.CreatePrivateDirectory(directory);
        var certificatePath = Path.Combine(directory, $"{name}.pem");
        var keyPath = Path.Combine(directory, $"{name}.key");
        using (var existing = CertificateFiles.TryLoad(certificatePath, keyPath))
        {
            if (existing is not null && existing.NotAfter.ToUniversalTime() - now.UtcDateTime > RenewBefore
                && IssuedByThis(existing) && SubjectNames.Of(existing) == names)
            {
                return new(certificatePath, keyPath, CertificatePath);
            }
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}, O=DiveAspire"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false)); // serverAuth
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        request.CertificateExtensions.Add(names.ToExtension());
        var notAfter = now.Add(ServerValidity) < _ca.NotAfter.ToUniversalTime() ? now.Add(ServerValidity) : new DateTimeOffset(_ca.NotAfter.ToUniversalTime());
        using var issued = request.Create(_ca, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        CertificateFiles.Write(certificatePath, keyPath, issued, key);
        return new(certificatePath, keyPath, CertificatePath);
    }

    /// <summary>True when <paramref name="certificate"/> chains to this CA (and only to it).</summary>
    public bool IssuedByThis(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}

/// <summary>A server's certificate, its private key (0600) and the CA certificate clients validate it with: paths only.</summary>
public sealed record ServerCertificate(string CertificatePath, string KeyPath, string CaCertificatePath);

/// <summary>The host names and addresses a server certificate is issued for (its subject alternative names), compared as sets.</summary>
public sealed record SubjectNames(IReadOnlyList<string> DnsNames, IReadOnlyList<IPAddress> Addresses)
{
    public static SubjectNames Create(IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses) => new(
        [.. dnsNames.Select(n => n.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal)],
        [.. addresses.Distinct().OrderBy(a => a.ToString(), StringComparer.Ordinal)]);

    public static SubjectNames Of(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SingleOrDefault() is { } san
            ? Create(san.EnumerateDnsNames(), san.EnumerateIPAddresses())
            : Create([], []);

    public X509Extension ToExtension()
    {
        var builder = new SubjectAlternativeNameBuilder();
        foreach (var name in DnsNames)
        {
            builder.AddDnsName(name);
        }
        foreach (var address in Addresses)
        {
            builder.AddIpAddress(address);
        }
        return builder.Build(critical: false);
    }

    public bool Equals(SubjectNames? other) => other is not null && DnsNames.SequenceEqual(other.DnsNames) && Addresses.SequenceEqual(other.Addresses);

    public override int GetHashCode() => HashCode.Combine(DnsNames.Count, Addresses.Count);

    public override string ToString() => string.Join(", ", DnsNames.Concat(Addresses.Select(a => a.ToString())));
}
