using DiveAspire.Backend.Revocation;
using DiveAspire.Topology.Tls;

namespace DiveAspire.Backend.FederatedSearch;

/// <summary>
/// <c>Dive:Peers:TlsCa</c> (a PEM path, set by the AppHost of a spoke that joined a hub over https): the clients that
/// call peer backends (the revocation relay, federated search) validate an https peer against that CA alone and the host
/// name dialled, never the machine's trust store and never "accept any" (<see cref="PinnedCertificateAuthority"/>).
/// Only those clients: every other HttpClient of the process (the telemetry exporter's, for one) keeps the machine's
/// trust store (review S1, session 8).
/// </summary>
public static class PeerTls
{
    public const string CaKey = "Dive:Peers:TlsCa";

    /// <summary>The HttpClient names that call peer backends (the relay's typed client is named after its type).</summary>
    public static readonly string[] PeerClientNames = [FederatedSearcher.HttpClientName, nameof(RevocationRelay)];

    public static IServiceCollection AddPeerTls(this IServiceCollection services, IConfiguration config)
    {
        if (config[CaKey] is { Length: > 0 } ca)
        {
            var validator = PinnedCertificateAuthority.Validator(ca);
            foreach (var name in PeerClientNames)
            {
                services.AddHttpClient(name).ConfigurePrimaryHttpMessageHandler(() =>
                    new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = validator } });
            }
        }
        return services;
    }
}
