#pragma warning disable ASPIRECERTIFICATES001 // IDeveloperCertificateService is experimental in Aspire 13.6
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Aspire.Hosting;
using DiveAspire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static DiveAspire.Tests.Infrastructure.ModelInspection;

namespace DiveAspire.Tests.Model;

/// <summary>
/// One port convention in both runtimes: the planned Redis ports (6379 + offset, 6479) speak plain TCP behind the
/// password. Aspire 13's Redis integration switches its planned port to TLS (and adds a plain one on a random port)
/// on any machine with a trusted developer certificate, as most laptops have; this machine has none, so the test
/// stands one in for the graph's start-up event, where Aspire makes that switch.
/// </summary>
public sealed class RedisPortConventionModelTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("dive-model-tls-").FullName;
    private readonly TestSecrets _secrets = new();

    [Fact]
    public async Task Container_redis_keeps_plain_tcp_on_the_planned_port_on_a_machine_with_a_trusted_developer_certificate()
    {
        await using var builder = await BuildModelAsync("container", "rou", _data, _secrets, "Dive:Monitoring=false", "Dive:Keycloak=false");
        using var certificate = SelfSignedCertificate();
        builder.Services.AddSingleton<IDeveloperCertificateService>(new TrustedDeveloperCertificate(certificate));
        await using var app = await builder.BuildAsync();

        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        await app.Services.GetRequiredService<Aspire.Hosting.Eventing.IDistributedApplicationEventing>()
            .PublishAsync(new BeforeStartEvent(app.Services, model));

        var redis = model.Resources.OfType<RedisResource>().OrderBy(r => r.Name).ToList();
        Assert.Equal(["redis-blacklist", "redis-rou", "redis-usa"], redis.Select(r => r.Name));
        foreach (var resource in redis)
        {
            var endpoint = Assert.Single(resource.Annotations.OfType<EndpointAnnotation>());
            Assert.Equal("tcp", endpoint.Name);
            Assert.False(endpoint.TlsEnabled, $"{resource.Name}: the planned port speaks TLS");
            Assert.Equal("redis", endpoint.UriScheme);
            Assert.False(resource.TlsEnabled);
            var args = Strings(await ArgsAsync(resource));
            Assert.DoesNotContain(args, a => a.Contains("--tls", StringComparison.Ordinal));
        }
    }

    private static X509Certificate2 SelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>What Aspire sees on a laptop after `dotnet dev-certs https --trust`.</summary>
    private sealed class TrustedDeveloperCertificate(X509Certificate2 certificate) : IDeveloperCertificateService
    {
        public ImmutableList<X509Certificate2> Certificates { get; } = [certificate];
        public bool SupportsContainerTrust => true;
        public bool UseForHttps => true;
        public bool TrustCertificate => true;
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
