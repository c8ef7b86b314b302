using System.Net;
using System.Security.Cryptography.X509Certificates;
using DiveAspire.AppHost.Tls;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Unit;

/// <summary>The development CA and the server certificates it issues (<c>.dive/data/tls/</c>): names, validity, key files, reuse.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CertificateAuthorityTests : IDisposable
{
    private readonly string _directory = Path.Combine(Directory.CreateTempSubdirectory("dive-tls-").FullName, "tls");
    private static readonly SubjectNames StoreNames = SubjectNames.Create(["localhost", "hub.example.org"], [IPAddress.Loopback, IPAddress.Parse("10.0.0.5")]);

    [Fact]
    public void The_ca_is_a_ca_and_the_server_certificate_names_the_bind_address_and_host_names_for_server_use_only()
    {
        var ca = DevelopmentCertificateAuthority.LoadOrCreate(_directory);
        var issued = ca.Issue(_directory, "redis-blacklist", StoreNames);

        Assert.True(Assert.Single(ca.Certificate.Extensions.OfType<X509BasicConstraintsExtension>()).CertificateAuthority);
        using var server = X509Certificate2.CreateFromPemFile(issued.CertificatePath, issued.KeyPath);
        Assert.Equal(StoreNames, SubjectNames.Of(server));
        Assert.False(Assert.Single(server.Extensions.OfType<X509BasicConstraintsExtension>()).CertificateAuthority);
        Assert.Equal("1.3.6.1.5.5.7.3.1", Assert.Single(Assert.Single(server.Extensions.OfType<X509EnhancedKeyUsageExtension>()).EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>()).Value);
        Assert.True(ca.IssuedByThis(server));
        Assert.Equal(ca.CertificatePath, issued.CaCertificatePath);
        // Valid now, for about 13 months (browsers' and most clients' limit for a server certificate), never beyond its CA.
        Assert.InRange(server.NotBefore.ToUniversalTime(), DateTime.UtcNow.AddHours(-1), DateTime.UtcNow);
        Assert.InRange(server.NotAfter.ToUniversalTime(), DateTime.UtcNow.AddDays(396), DateTime.UtcNow.AddDays(398));
        Assert.True(server.NotAfter <= ca.Certificate.NotAfter);
    }

    [Fact]
    public void Private_keys_are_readable_by_their_owner_only_and_the_ca_certificate_holds_no_key()
    {
        var ca = DevelopmentCertificateAuthority.LoadOrCreate(_directory);
        var issued = ca.Issue(_directory, "redis-blacklist", StoreNames);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, DevelopmentCertificateAuthority.KeyFileName)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(issued.KeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));
        Assert.DoesNotContain("PRIVATE KEY", File.ReadAllText(ca.CertificatePath));
        Assert.DoesNotContain("PRIVATE KEY", File.ReadAllText(issued.CertificatePath));
    }

    [Fact]
    public void A_key_file_that_existed_with_a_wider_mode_becomes_0600()
    {
        Directory.CreateDirectory(_directory);
        var keyPath = Path.Combine(_directory, "redis-blacklist.key");
        File.WriteAllText(keyPath, "not a key");
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        DevelopmentCertificateAuthority.LoadOrCreate(_directory).Issue(_directory, "redis-blacklist", StoreNames);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
    }

    [Fact]
    public void The_ca_and_the_certificate_are_reused_across_runs_and_reissued_when_the_names_change()
    {
        var first = DevelopmentCertificateAuthority.LoadOrCreate(_directory);
        var issued = first.Issue(_directory, "redis-blacklist", StoreNames);
        var certificate = File.ReadAllText(issued.CertificatePath);

        var second = DevelopmentCertificateAuthority.LoadOrCreate(_directory);
        Assert.Equal(first.Certificate.Thumbprint, second.Certificate.Thumbprint);
        second.Issue(_directory, "redis-blacklist", StoreNames);
        Assert.Equal(certificate, File.ReadAllText(issued.CertificatePath));

        // The machine got another address: a new certificate from the same CA (a spoke's copy of ca.pem stays valid).
        var moved = SubjectNames.Create(["localhost", "hub.example.org"], [IPAddress.Loopback, IPAddress.Parse("10.0.0.6")]);
        second.Issue(_directory, "redis-blacklist", moved);
        Assert.NotEqual(certificate, File.ReadAllText(issued.CertificatePath));
        using var reissued = X509Certificate2.CreateFromPemFile(issued.CertificatePath, issued.KeyPath);
        Assert.Equal(moved, SubjectNames.Of(reissued));
        Assert.True(first.IssuedByThis(reissued));
    }

    [Fact]
    public void A_certificate_close_to_expiry_is_renewed_and_one_of_another_ca_is_replaced()
    {
        var ca = DevelopmentCertificateAuthority.LoadOrCreate(_directory);
        var issued = ca.Issue(_directory, "redis-blacklist", StoreNames);
        var certificate = File.ReadAllText(issued.CertificatePath);

        var later = new ManualClock(DateTimeOffset.UtcNow.Add(DevelopmentCertificateAuthority.ServerValidity - TimeSpan.FromDays(10)));
        ca.Issue(_directory, "redis-blacklist", StoreNames, later);
        Assert.NotEqual(certificate, File.ReadAllText(issued.CertificatePath));

        var otherDirectory = Path.Combine(_directory, "other");
        var other = DevelopmentCertificateAuthority.LoadOrCreate(otherDirectory);
        using var ours = X509Certificate2.CreateFromPemFile(issued.CertificatePath, issued.KeyPath);
        Assert.False(other.IssuedByThis(ours));
        other.Issue(_directory, "redis-blacklist", StoreNames);
        using var replaced = X509Certificate2.CreateFromPemFile(issued.CertificatePath, issued.KeyPath);
        Assert.True(other.IssuedByThis(replaced));
    }

    [Fact]
    public void Every_interface_puts_the_machines_addresses_in_the_certificate_and_host_names_can_be_added()
    {
        var settings = TlsSettings.From(new ConfigurationBuilder().AddInMemoryCollection([new("Dive:Tls:HostNames", "hub.example.org, 192.0.2.7")]).Build(), _directory);
        var names = settings.NamesFor("0.0.0.0");
        Assert.Contains("localhost", names.DnsNames);
        Assert.Contains("hub.example.org", names.DnsNames);
        Assert.Contains(IPAddress.Parse("192.0.2.7"), names.Addresses);
        Assert.Contains(IPAddress.Loopback, names.Addresses);
        Assert.DoesNotContain(IPAddress.Any, names.Addresses);
        Assert.Contains(IPAddress.Parse("10.0.0.5"), settings.NamesFor("10.0.0.5").Addresses);
    }

    [Fact]
    public void A_damaged_ca_stops_the_apphost_instead_of_being_replaced_behind_the_spokes_backs()
    {
        var ca = DevelopmentCertificateAuthority.LoadOrCreate(_directory);
        File.WriteAllText(Path.Combine(_directory, DevelopmentCertificateAuthority.KeyFileName), "damaged");
        var error = Assert.Throws<TopologyException>(() => DevelopmentCertificateAuthority.LoadOrCreate(_directory));
        Assert.DoesNotContain("\n", error.Message);
        Assert.Contains(ca.Certificate.ExportCertificatePem().Split('\n')[1], File.ReadAllText(ca.CertificatePath));
    }

    [Fact]
    public void The_pinned_validator_accepts_only_certificates_of_its_ca_for_the_dialled_name_whatever_the_system_store_says()
    {
        var ca = DevelopmentCertificateAuthority.LoadOrCreate(_directory);
        var issued = ca.Issue(_directory, "redis-blacklist", StoreNames);
        using var ours = X509Certificate2.CreateFromPemFile(issued.CertificatePath, issued.KeyPath);
        var other = DevelopmentCertificateAuthority.LoadOrCreate(Path.Combine(_directory, "other"));
        var foreign = other.Issue(Path.Combine(_directory, "other"), "redis-blacklist", StoreNames);
        using var theirs = X509Certificate2.CreateFromPemFile(foreign.CertificatePath, foreign.KeyPath);

        Assert.True(DiveAspire.Topology.Tls.PinnedCertificateAuthority.IsValid(ca.Certificate, ours, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors));
        // SslPolicyErrors.None is what a certificate trusted by the machine's store would give: still refused for another CA.
        Assert.False(DiveAspire.Topology.Tls.PinnedCertificateAuthority.IsValid(ca.Certificate, theirs, System.Net.Security.SslPolicyErrors.None));
        Assert.False(DiveAspire.Topology.Tls.PinnedCertificateAuthority.IsValid(ca.Certificate, ours, System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.False(DiveAspire.Topology.Tls.PinnedCertificateAuthority.IsValid(ca.Certificate, null, System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable));
    }

    [Fact]
    public void A_joining_spoke_checks_its_copy_of_the_hubs_ca_against_the_fingerprint_the_hubs_operator_read_out()
    {
        var ca = DevelopmentCertificateAuthority.LoadOrCreate(_directory);
        var fingerprint = CertificateFingerprint.Sha256(ca.CertificatePath);
        Assert.Matches("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", fingerprint);
        DiveAspire.AppHost.JoinSettings Join(string sha) => DiveAspire.AppHost.JoinSettings.From(new ConfigurationBuilder().AddInMemoryCollection(
        [
            new("Dive:Join:Hub", "http://hub:4000"), new("Dive:Join:CertificateAuthority", ca.CertificatePath), new("Dive:Join:CertificateAuthoritySha256", sha),
        ]).Build())!;
        Join(fingerprint.Replace(":", "").ToLowerInvariant()).RequireStoreTrust();
        var other = DevelopmentCertificateAuthority.LoadOrCreate(Path.Combine(_directory, "other"));
        var error = Assert.Throws<TopologyException>(() => Join(CertificateFingerprint.Sha256(other.CertificatePath)).RequireStoreTrust());
        Assert.Contains("not the hub's CA", error.Message);
    }

    [Theory]
    [InlineData("Dive:Tls:Certificate", "/nonexistent/server.pem")]
    [InlineData("Dive:Tls:CertificateAuthority", "/nonexistent/ca.pem")]
    [InlineData("Dive:Tls:HostNames", "bad name!")]
    public void A_bad_tls_setting_is_one_clear_error(string key, string value)
    {
        var error = Assert.Throws<TopologyException>(() =>
            TlsSettings.From(new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build(), _directory));
        Assert.DoesNotContain("\n", error.Message);
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);
}
