using System.Globalization;
using System.Text.RegularExpressions;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.AppHost;

/// <summary>
/// How a spoke AppHost joins a hub that runs elsewhere (<c>./dive up --join http://hub-host:4000 --spokes rou</c>):
/// <list type="bullet">
/// <item><c>Dive:Join:Hub</c>: the hub backend's URL (its peers' address for federated search).</item>
/// <item><c>Dive:Join:SharedStore</c>: the shared store's <c>host:port</c> (default: the hub's host, port 6479), or
/// <c>Dive:Join:Sentinels</c>: <c>host:port,host:port,host:port</c> of its Sentinels when the hub runs it highly available.</item>
/// </list>
/// Secrets come from the hub's operator as parameters (user secrets or <c>Parameters__...</c>), never generated here:
/// <c>redis-password-blacklist-backend-&lt;code&gt;</c> per spoke, <c>dive-federation-key</c> and, in the process runtime,
/// <c>dive-dev-signing-key</c>.
/// </summary>
public sealed partial record JoinSettings(Uri HubUrl, string SharedStoreAddress)
{
    public const string HubKey = "Dive:Join:Hub";
    public const string SharedStoreKey = "Dive:Join:SharedStore";
    public const string SentinelsKey = "Dive:Join:Sentinels";
    public const string CertificateAuthorityKey = "Dive:Join:CertificateAuthority";
    public const string PlaintextStoreKey = "Dive:Join:PlaintextStore";
    public const string CertificateAuthoritySha256Key = "Dive:Join:CertificateAuthoritySha256";

    /// <summary>
    /// <c>Dive:Join:CertificateAuthoritySha256</c>: the CA certificate's SHA-256 fingerprint as the hub's operator read it
    /// out (the hub logs it in redis-blacklist's console); the copied file must match it.
    /// </summary>
    public string? StoreCertificateAuthoritySha256 { get; init; }

    /// <summary>
    /// <c>Dive:Join:CertificateAuthority</c>: the hub's CA certificate (PEM file, e.g. a copy of the hub's
    /// <c>.dive/data/tls/ca.pem</c>; not a secret): the store is reached over TLS and validated against it.
    /// </summary>
    public string? StoreCertificateAuthority { get; init; }

    /// <summary><c>Dive:Join:PlaintextStore=true</c>: the store is reached without TLS (a VPN or tunnel protects it), said explicitly.</summary>
    public bool PlaintextStore { get; init; }

    /// <summary>
    /// A joined store is reached over TLS against the hub's CA, or in plain TCP only when said explicitly; TLS through
    /// Sentinels is not built (a process-runtime hub refuses --ha beyond loopback).
    /// </summary>
    public void RequireStoreTrust()
    {
        if (StoreCertificateAuthority is null && !PlaintextStore)
        {
            throw new TopologyException(
                $"Joining a hub needs its CA certificate to reach the shared store over TLS: {CertificateAuthorityKey}=PATH (a copy of the hub's " +
                $".dive/data/tls/ca.pem; not a secret), or {PlaintextStoreKey}=true when a VPN or tunnel already protects the store (docs/deployment.md).");
        }
        if (StoreCertificateAuthority is not null && PlaintextStore)
        {
            throw new TopologyException($"Give either {CertificateAuthorityKey} (TLS) or {PlaintextStoreKey}=true, not both.");
        }
        if (StoreCertificateAuthority is not null && SharedStoreAddress.Contains("serviceName=", StringComparison.Ordinal))
        {
            throw new TopologyException($"{CertificateAuthorityKey} with {SentinelsKey}: TLS through Sentinels is not built; join the store at one address ({SharedStoreKey}).");
        }
        if (StoreCertificateAuthority is not null && !File.Exists(StoreCertificateAuthority))
        {
            throw new TopologyException($"{CertificateAuthorityKey}: the file {StoreCertificateAuthority} does not exist.");
        }
        if (StoreCertificateAuthoritySha256 is { } expected && StoreCertificateAuthority is not null
            && !string.Equals(Tls.CertificateFingerprint.Normalize(expected), Tls.CertificateFingerprint.Sha256(StoreCertificateAuthority), StringComparison.Ordinal))
        {
            throw new TopologyException(
                $"{CertificateAuthorityKey}: {StoreCertificateAuthority} has the SHA-256 fingerprint {Tls.CertificateFingerprint.Sha256(StoreCertificateAuthority)}, " +
                $"not the {CertificateAuthoritySha256Key} the hub's operator gave: the copy is not the hub's CA.");
        }
    }

    /// <summary>The settings, or null when this AppHost runs its own hub.</summary>
    public static JoinSettings? From(IConfiguration config)
    {
        var hub = config[HubKey];
        var store = config[SharedStoreKey];
        var sentinels = config[SentinelsKey];
        if (string.IsNullOrWhiteSpace(hub))
        {
            return string.IsNullOrWhiteSpace(store) && string.IsNullOrWhiteSpace(sentinels)
                ? null
                : throw new TopologyException($"{SharedStoreKey} and {SentinelsKey} are for joining a hub: give the hub with --join http://hub-host:4000.");
        }
        if (!Uri.TryCreate(hub.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")
            || url.AbsolutePath != "/" || url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0 || !IsHost(url.Host))
        {
            throw new TopologyException($"--join needs the hub backend's URL as http(s)://host:port, without path (got '{hub}').");
        }
        if (!string.IsNullOrWhiteSpace(store) && !string.IsNullOrWhiteSpace(sentinels))
        {
            throw new TopologyException($"Give the shared store either as {SharedStoreKey} (one address) or as {SentinelsKey} (its Sentinels), not both.");
        }
        var address = !string.IsNullOrWhiteSpace(sentinels)
            ? BlacklistHighAvailability.Default.SentinelConnectionPrefix(sentinels.Split(',', StringSplitOptions.TrimEntries).Select(s => HostAndPort(s, SentinelsKey)))
            : HostAndPort(string.IsNullOrWhiteSpace(store) ? string.Create(CultureInfo.InvariantCulture, $"{url.Host}:{PortPlan.BlacklistRedis}") : store.Trim(), SharedStoreKey);
        return new JoinSettings(url, address)
        {
            StoreCertificateAuthority = config[CertificateAuthorityKey] is { Length: > 0 } ca ? Path.GetFullPath(ca) : null,
            PlaintextStore = string.Equals(config[PlaintextStoreKey], "true", StringComparison.OrdinalIgnoreCase),
            StoreCertificateAuthoritySha256 = config[CertificateAuthoritySha256Key] is { Length: > 0 } sha ? sha : null,
        };
    }

    /// <summary>host:port with a plain host name or IP: nothing that could add an option to a Redis connection string.</summary>
    private static string HostAndPort(string text, string key)
    {
        var colon = text.LastIndexOf(':');
        return colon > 0 && IsHost(text[..colon].Trim('[', ']')) && int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? text
            : throw new TopologyException($"{key} must be host:port (host name or IP address), comma-separated for Sentinels (got '{text}').");
    }

    private static bool IsHost(string host) => HostPattern().IsMatch(host) || StrictIpAddress.TryParse(host, out _);

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$")]
    private static partial Regex HostPattern();
}
