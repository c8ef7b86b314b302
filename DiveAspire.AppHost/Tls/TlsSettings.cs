using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.AppHost.Tls;

/// <summary>
/// Where the certificates of the servers this AppHost exposes beyond loopback come from (<c>Dive:Tls:*</c>):
/// <list type="bullet">
/// <item>by default the deployment's development CA in <c>&lt;data&gt;/tls/</c> (<see cref="DevelopmentCertificateAuthority"/>) issues them;</item>
/// <item><c>Dive:Tls:CertificateAuthority</c> + <c>Dive:Tls:CertificateAuthorityKey</c> (PEM files): the operator's CA issues them instead;</item>
/// <item><c>Dive:Tls:Certificate</c> + <c>Dive:Tls:CertificateKey</c> (+ <c>Dive:Tls:CertificateAuthority</c>, the CA that
/// clients validate it with): the operator's own server certificate, used as it is.</item>
/// </list>
/// <c>Dive:Tls:HostNames</c> adds names or addresses (comma-separated) to what a generated certificate covers: localhost,
/// 127.0.0.1, ::1, the machine's host name and the bind address (every address of the machine for 0.0.0.0).
/// </summary>
public sealed record TlsSettings(string Directory, string? CertificateAuthority, string? CertificateAuthorityKey, string? Certificate, string? CertificateKey, IReadOnlyList<string> HostNames)
{
    public const string Section = "Dive:Tls";

    public static TlsSettings From(IConfiguration config, string dataPath)
    {
        var section = config.GetSection(Section);
        string? PathOf(string key) => section[key] is { Length: > 0 } text ? System.IO.Path.GetFullPath(text) : null;
        var settings = new TlsSettings(
            System.IO.Path.Combine(dataPath, "tls"),
            PathOf("CertificateAuthority"), PathOf("CertificateAuthorityKey"), PathOf("Certificate"), PathOf("CertificateKey"),
            [.. (section["HostNames"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]);
        if ((settings.Certificate is null) != (settings.CertificateKey is null))
        {
            throw new TopologyException($"{Section}:Certificate and {Section}:CertificateKey go together (PEM files of your server certificate and its key).");
        }
        if (settings.Certificate is not null && settings.CertificateAuthority is null)
        {
            throw new TopologyException($"{Section}:Certificate needs {Section}:CertificateAuthority: the CA certificate (PEM) its clients validate it with.");
        }
        if (settings.Certificate is null && settings.CertificateAuthority is not null && settings.CertificateAuthorityKey is null)
        {
            throw new TopologyException($"{Section}:CertificateAuthority alone cannot issue certificates: add {Section}:CertificateAuthorityKey, or give your server certificate with {Section}:Certificate and {Section}:CertificateKey.");
        }
        foreach (var path in new[] { settings.CertificateAuthority, settings.CertificateAuthorityKey, settings.Certificate, settings.CertificateKey }.OfType<string>())
        {
            if (!File.Exists(path))
            {
                throw new TopologyException($"{Section}: the file {path} does not exist.");
            }
        }
        foreach (var name in settings.HostNames)
        {
            if (Uri.CheckHostName(name) is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6))
            {
                throw new TopologyException($"{Section}:HostNames must be host names or IP addresses, comma-separated (got '{name}').");
            }
        }
        return settings;
    }

    /// <summary>The certificate of the server <paramref name="name"/> listening on <paramref name="bindAddress"/>, issued or reused now.</summary>
    public ServerCertificate ServerCertificate(string name, string bindAddress)
    {
        if (Certificate is not null)
        {
            return new(Certificate, CertificateKey!, CertificateAuthority!);
        }
        var ca = CertificateAuthorityKey is not null
            ? DevelopmentCertificateAuthority.FromFiles(CertificateAuthority!, CertificateAuthorityKey)
            : DevelopmentCertificateAuthority.LoadOrCreate(Directory);
        return ca.Issue(Directory, name, NamesFor(bindAddress));
    }

    /// <summary>localhost, the loopback addresses, the host name, the bind address (every unicast address of the machine for 0.0.0.0) and <see cref="HostNames"/>.</summary>
    public SubjectNames NamesFor(string bindAddress)
    {
        var dns = new List<string> { "localhost", Dns.GetHostName() };
        var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        if (BindAddress.IsEveryInterface(bindAddress))
        {
            addresses.AddRange(NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(u => u.Address)
                .Where(a => a.AddressFamily == AddressFamily.InterNetwork || (a.AddressFamily == AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal)));
        }
        else if (!BindAddress.IsLoopback(bindAddress))
        {
            addresses.Add(IPAddress.Parse(bindAddress));
        }
        foreach (var name in HostNames)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                addresses.Add(address);
            }
            else
            {
                dns.Add(name);
            }
        }
        return SubjectNames.Create(dns, addresses);
    }
}
