using System.Net.Security;
using System.Security.Authentication;
using DiveAspire.AppHost.Tls;
using DiveAspire.Backend.FederatedSearch;
using DiveAspire.Topology.Tls;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// The hub's backend listens beyond loopback, so it speaks HTTPS there with a certificate of the deployment's CA (review
/// T6): the joined spoke relays users' bearer tokens to it. The attack is
/// <see cref="A_plain_http_request_at_the_hub_backends_network_address_gets_no_http_answer"/>.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class JoinHubTests
{
    private Uri HubBackendAt(string scheme) => new($"{scheme}://{JoinHubFixture.HubHost}:{join.Hub.Backend("usa").BaseAddress!.Port}/health/live");

    private static HttpClient ClientTrusting(string caCertificatePath) => new(new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = PinnedCertificateAuthority.Validator(caCertificatePath) },
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    [Trait("Category", "Security")]
    public async Task A_plain_http_request_at_the_hub_backends_network_address_gets_no_http_answer()
    {
        // Before T6 this answered 200 (the fixture's spoke relayed bearer tokens there in clear, with AllowPlaintextRelay).
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, HubBackendAt("http"));
        request.Headers.Authorization = new("Bearer", "not-a-real-token");
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => plain.SendAsync(request));
        output.WriteLine($"plain http refused: {error.Message}");
    }

    [Fact]
    public async Task An_https_client_pinning_the_hubs_ca_gets_health_live_at_the_network_address()
    {
        using var client = ClientTrusting(join.HubCaCertificate);
        using var response = await client.GetAsync(HubBackendAt("https"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        // Loopback stays plain http (the AppHost's health checks and dashboard use it).
        using var local = await join.Hub.Backend("usa").GetAsync("/health/live");
        Assert.Equal(System.Net.HttpStatusCode.OK, local.StatusCode);
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task An_https_client_trusting_another_ca_is_refused_by_the_hub_backend()
    {
        var other = Directory.CreateTempSubdirectory("dive-other-ca-").FullName;
        try
        {
            var otherCa = DevelopmentCertificateAuthority.LoadOrCreate(other);
            using var client = ClientTrusting(otherCa.CertificatePath);
            var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(HubBackendAt("https")));
            output.WriteLine($"refused: {error.Message}");
            Assert.Contains(Flatten(error), e => e is AuthenticationException);
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task The_backends_peer_clients_pin_the_ca_they_are_given_and_refuse_the_hub_under_another()
    {
        // What a joined spoke's backend does with Dive:Peers:TlsCa (its relay and federated-search clients). The joined
        // spoke's relay itself passing over https (the logout tests) shows the hub's CA is in use: the machine's trust store
        // does not know it.
        static HttpClient PeerClient(string ca)
        {
            var config = new ConfigurationBuilder().AddInMemoryCollection([new(PeerTls.CaKey, ca)]).Build();
            return new ServiceCollection().AddPeerTls(config).AddHttpClient().BuildServiceProvider()
                .GetRequiredService<IHttpClientFactory>().CreateClient("federation");
        }
        using (var pinned = PeerClient(join.HubCaCertificate))
        using (var response = await pinned.GetAsync(HubBackendAt("https")))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }
        var other = Directory.CreateTempSubdirectory("dive-other-ca-").FullName;
        try
        {
            using var wrong = PeerClient(DevelopmentCertificateAuthority.LoadOrCreate(other).CertificatePath);
            var error = await Assert.ThrowsAsync<HttpRequestException>(() => wrong.GetAsync(HubBackendAt("https")));
            Assert.Contains(Flatten(error), e => e is AuthenticationException);
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }
}
