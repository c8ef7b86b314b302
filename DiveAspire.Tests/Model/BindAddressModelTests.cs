using Aspire.Hosting;
using DiveAspire.Tests.Infrastructure;
using static DiveAspire.Tests.Infrastructure.ModelInspection;

namespace DiveAspire.Tests.Model;

/// <summary>Dive:Redis:BindAddress and Dive:Backend:BindAddress in the graph (process runtime), built without starting.</summary>
public sealed class BindAddressModelTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("dive-model-").FullName;
    private readonly TestSecrets _secrets = new();

    [Fact]
    public async Task Without_a_setting_everything_listens_on_loopback_only()
    {
        await using var builder = await BuildModelAsync("process", "rou", _data, _secrets);
        var redis = Assert.IsType<LocalRedisResource>(Assert.Single(builder.Resources, r => r.Name == "redis-blacklist"));
        var args = Strings(await ArgsAsync(redis));
        Assert.Equal(["127.0.0.1", "--protected-mode"], args.Skip(args.IndexOf("--bind") + 1).Take(2));
        Assert.Equal("localhost", Assert.Single(redis.Annotations.OfType<EndpointAnnotation>()).TargetHost);
        // No orchestrator proxy in front of any Redis (issue 16): redis-server binds its planned port itself.
        foreach (var local in builder.Resources.OfType<LocalRedisResource>())
        {
            var endpoint = Assert.Single(local.Annotations.OfType<EndpointAnnotation>());
            Assert.False(endpoint.IsProxied, local.Name);
            Assert.Equal(endpoint.Port, endpoint.TargetPort);
        }
    }

    [Fact]
    public async Task A_bind_address_adds_to_loopback_for_the_shared_store_only_keeps_protected_mode_and_reaches_the_proxy_and_kestrel()
    {
        await using var builder = await BuildModelAsync("process", "rou", _data, _secrets,
            "Dive:Redis:BindAddress=10.0.0.5", "Dive:Backend:BindAddress=10.0.0.5", "Dive:BackendLaunch=executable");
        var store = Assert.IsType<LocalRedisResource>(Assert.Single(builder.Resources, r => r.Name == "redis-blacklist"));
        var storeArgs = Strings(await ArgsAsync(store));
        Assert.Equal(["127.0.0.1", "10.0.0.5", "--protected-mode", "yes"], storeArgs.Skip(storeArgs.IndexOf("--bind") + 1).Take(4));
        Assert.Equal("10.0.0.5", Assert.Single(store.Annotations.OfType<EndpointAnnotation>()).TargetHost);
        // The password is still required: the default user stays off in the ACL file, whatever the address.
        Assert.DoesNotContain("--requirepass", storeArgs);
        // Only the shared store serves other machines: an instance's own Redis (caches, OTP, limits) stays on loopback.
        foreach (var name in new[] { "redis-usa", "redis-rou" })
        {
            var redis = Assert.IsType<LocalRedisResource>(Assert.Single(builder.Resources, r => r.Name == name));
            var args = Strings(await ArgsAsync(redis));
            Assert.Equal(["127.0.0.1", "--protected-mode"], args.Skip(args.IndexOf("--bind") + 1).Take(2));
            Assert.Equal("localhost", Assert.Single(redis.Annotations.OfType<EndpointAnnotation>()).TargetHost);
        }
        var backend = Assert.Single(builder.Resources, r => r.Name == "backend-usa");
        Assert.Equal("10.0.0.5", Assert.Single(backend.Annotations.OfType<EndpointAnnotation>()).TargetHost);
        var urls = await ((ReferenceExpression)(await EnvironmentAsync(backend))["ASPNETCORE_URLS"]).GetValueAsync(CancellationToken.None);
        // Beyond loopback HTTPS with a certificate of the deployment's CA (review T6; it was plain http there); loopback stays http.
        Assert.Matches("^http://localhost:\\d+;https://10\\.0\\.0\\.5:\\d+$", urls);
        var environment = await EnvironmentAsync(backend);
        Assert.Equal(Path.Combine(_data, "tls", "backend-usa.pem"), environment["Kestrel__Certificates__Default__Path"]);
        Assert.Equal(Path.Combine(_data, "tls", "backend-usa.key"), environment["Kestrel__Certificates__Default__KeyPath"]);
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task Beyond_loopback_the_shared_store_speaks_tls_only_and_its_clients_validate_it_against_the_deployments_ca()
    {
        await using var builder = await BuildModelAsync("process", "rou", _data, _secrets, "Dive:Redis:BindAddress=10.0.0.5", "Dive:BackendLaunch=executable");
        var store = Assert.IsType<LocalRedisResource>(Assert.Single(builder.Resources, r => r.Name == "redis-blacklist"));
        var args = Strings(await ArgsAsync(store));
        var ca = Path.Combine(_data, "tls", "ca.pem");
        Assert.Equal("0", ValueAfter(args, "--port"));
        Assert.Equal("<EndpointReferenceExpression>", ValueAfter(args, "--tls-port"));
        Assert.Equal(Path.Combine(_data, "tls", "redis-blacklist.key"), ValueAfter(args, "--tls-key-file"));
        Assert.Equal(ca, ValueAfter(args, "--tls-ca-cert-file"));
        Assert.DoesNotContain(args, a => a.Contains("PRIVATE KEY", StringComparison.Ordinal));
        // Every backend: TLS in its connection string, the CA for StackExchange.Redis's own validation (no accept-any).
        var environment = await EnvironmentAsync(Assert.Single(builder.Resources, r => r.Name == "backend-rou"));
        Assert.Equal(ca, environment[RedisTls.CaVariable("blacklist")]);
        Assert.DoesNotContain("SERedis_IssuerCertPath", environment.Keys);
        Assert.Contains(",ssl=true", ((ReferenceExpression)environment["ConnectionStrings__blacklist"]).Format);
        // An instance's own Redis stays plain on loopback.
        var cache = Strings(await ArgsAsync(Assert.Single(builder.Resources, r => r.Name == "redis-rou")));
        Assert.DoesNotContain("--tls-port", cache);
        // The CLI learns it from the data directory.
        Assert.Contains("redis-blacklist", File.ReadAllText(Path.Combine(_data, DiveAspire.Cli.Connections.TlsClients.FileName)));
    }

    [Fact]
    public async Task The_highly_available_store_beyond_loopback_is_refused_with_one_line_naming_what_is_missing()
    {
        var error = await Assert.ThrowsAsync<DiveAspire.Topology.TopologyException>(() =>
            BuildModelAsync("process", "rou", _data, _secrets, AppHostArgs.HighAvailability, "Dive:Redis:BindAddress=0.0.0.0"));
        Assert.Contains("TLS between the store's nodes and Sentinels is not built", error.Message);
        Assert.DoesNotContain("\n", error.Message);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
