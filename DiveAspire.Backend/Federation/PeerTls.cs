using DiveAspire.Topology.Tls;

namespace DiveAspire.Backend.FederatedSearch;

/// <summary>
/// <c>Dive:Peers:TlsCa</c> (a PEM path, set by the AppHost of a spoke that joined a hub over https): every outgoing
/// HttpClient of this backend (the revocation relay, federated search) validates an https peer against that CA alone and
/// the host name dialled, never the machine's trust store and never "accept any" (<see cref="PinnedCertificateAuthority"/>).
/// </summary>
public static class PeerTls
{
    public const string CaKey = "Dive:Peers:TlsCa";

    public static IServiceCollection AddPeerTls(this IServiceCollection services, IConfiguration config)
    {
        if (config[CaKey] is { Length: > 0 } ca)
        {
            var validator = PinnedCertificateAuthority.Validator(ca);
            services.ConfigureHttpClientDefaults(http => http.ConfigurePrimaryHttpMessageHandler(() =>
                new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = validator } }));
        }
        return services;
    }
}
