using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DiveAspire.Backend.FederatedSearch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DiveAspire.Tests.Unit;

/// <summary>
/// Review S1 (session 8): the hub's CA pins the clients that call peer backends only. Before, it was applied to every
/// HttpClient of the backend (ConfigureHttpClientDefaults), so the telemetry exporter's client refused any https
/// endpoint not signed by the hub's CA (the dashboard's developer certificate): a joined spoke's telemetry was lost.
/// </summary>
public sealed class PeerTlsTests : IDisposable
{
    private readonly string _caPath = Path.Combine(Path.GetTempPath(), $"dive-peer-ca-{Guid.NewGuid():N}.pem");

    public PeerTlsTests()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=dive test CA", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        File.WriteAllText(_caPath, ca.ExportCertificatePem());
    }

    private IHttpMessageHandlerFactory Handlers(bool withCa)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(withCa ? [new(PeerTls.CaKey, _caPath)] : []).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddHttpClient(FederatedSearcher.HttpClientName);
        services.AddHttpClient("OtlpTraceExporter");
        services.AddPeerTls(config);
        return services.BuildServiceProvider().GetRequiredService<IHttpMessageHandlerFactory>();
    }

    private static HttpMessageHandler Primary(HttpMessageHandler handler)
    {
        while (handler is DelegatingHandler { InnerHandler: { } inner })
        {
            handler = inner;
        }
        return handler;
    }

    private static bool Pinned(HttpMessageHandler handler) =>
        Primary(handler) is SocketsHttpHandler { SslOptions.RemoteCertificateValidationCallback: not null };

    [Fact]
    public void The_peer_clients_are_pinned_to_the_hubs_CA()
    {
        var handlers = Handlers(withCa: true);
        Assert.All(PeerTls.PeerClientNames, name => Assert.True(Pinned(handlers.CreateHandler(name)), name));
    }

    [Fact]
    public void Every_other_client_keeps_the_machines_trust_store()
    {
        var handlers = Handlers(withCa: true);
        Assert.False(Pinned(handlers.CreateHandler("OtlpTraceExporter")));
        Assert.False(Pinned(handlers.CreateHandler(Microsoft.Extensions.Options.Options.DefaultName)));
    }

    [Fact]
    public void Without_a_CA_nothing_is_pinned()
    {
        var handlers = Handlers(withCa: false);
        Assert.All(PeerTls.PeerClientNames, name => Assert.False(Pinned(handlers.CreateHandler(name)), name));
    }

    public void Dispose() => File.Delete(_caPath);
}
