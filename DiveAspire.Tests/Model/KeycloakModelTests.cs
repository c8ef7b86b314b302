using System.Text.Json;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using static DiveAspire.Tests.Infrastructure.ModelInspection;

namespace DiveAspire.Tests.Model;

/// <summary>Keycloak in the container runtime, built but not started (no Keycloak image can run on this machine).</summary>
public sealed class KeycloakModelTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("dive-model-kc-").FullName;
    private readonly TestSecrets _secrets = new();

    private Task<IDistributedApplicationTestingBuilder> BuildAsync(string runtime, string spokes = "rou,bel", params string[] extra) =>
        BuildModelAsync(runtime, spokes, _data, _secrets, extra);

    private static T Get<T>(IDistributedApplicationTestingBuilder builder, string name) where T : IResource =>
        Assert.IsType<T>(Assert.Single(builder.Resources, r => r.Name == name));

    [Fact]
    public async Task Container_runtime_runs_one_keycloak_per_instance_with_its_realm_image_ports_and_health_check()
    {
        await using var builder = await BuildAsync("container");
        Assert.Equal(["keycloak-bel", "keycloak-rou", "keycloak-usa"], builder.Resources.OfType<KeycloakResource>().Select(k => k.Name).Order());

        foreach (var code in new[] { "usa", "rou", "bel" })
        {
            var country = NatoCatalog.Get(code);
            var keycloak = Get<KeycloakResource>(builder, $"keycloak-{code}");
            Assert.Equal($"dive-v3-broker-{code}", keycloak.Realm);

            var image = Assert.Single(keycloak.Annotations.OfType<ContainerImageAnnotation>());
            Assert.Equal("quay.io", image.Registry);
            Assert.Equal("keycloak/keycloak", image.Image);
            Assert.False(string.IsNullOrEmpty(image.Tag));

            var endpoints = keycloak.Annotations.OfType<EndpointAnnotation>().ToDictionary(e => e.Name);
            Assert.Equal(PortPlan.KeycloakHttp(country), endpoints["http"].Port);
            Assert.Equal(8080, endpoints["http"].TargetPort);
            Assert.Equal(PortPlan.KeycloakHttps(country), endpoints["https"].Port);
            Assert.Equal(8443, endpoints["https"].TargetPort);
            Assert.Equal(9000, endpoints["management"].TargetPort);

            var health = Assert.Single(keycloak.Annotations.OfType<HealthCheckAnnotation>());
            Assert.Contains("management", health.Key);

            var mount = Assert.Single(keycloak.Annotations.OfType<ContainerMountAnnotation>());
            Assert.Equal(Path.Combine(AppHostArgs.InstancesDirectory, code, "realm.json"), mount.Source);
            Assert.Equal("/opt/keycloak/data/import/realm.json", mount.Target);
            Assert.True(mount.IsReadOnly);

            Assert.Equal(["start-dev", "--import-realm"], Strings(await ArgsAsync(keycloak)));

            var env = await EnvironmentAsync(keycloak);
            Assert.Equal("admin", env["KC_BOOTSTRAP_ADMIN_USERNAME"]);
            var admin = Assert.IsType<ParameterResource>(env["KC_BOOTSTRAP_ADMIN_PASSWORD"]);
            Assert.Equal("keycloak-admin-password", admin.Name);
            Assert.True(admin.Secret);
            var users = Assert.IsType<ParameterResource>(env["DIVE_TEST_USER_PASSWORD"]);
            Assert.Equal("keycloak-test-user-password", users.Name);
            Assert.True(users.Secret);
            Assert.Equal("true", env["KC_HEALTH_ENABLED"]);
            // Tokens carry the issuer every backend trusts.
            Assert.Equal(Federation.Issuer(country), $"{env["KC_HOSTNAME"]}/realms/{keycloak.Realm}");
        }
    }

    [Fact]
    public async Task Container_backends_trust_every_realm_of_the_federation_wait_for_their_own_keycloak_and_never_get_the_dev_key()
    {
        await using var builder = await BuildAsync("container");
        string[] codes = ["usa", "rou", "bel"];
        foreach (var code in codes)
        {
            var backend = Get<BackendExecutableResource>(builder, $"backend-{code}");
            var env = await EnvironmentAsync(backend);
            foreach (var realm in codes)
            {
                var metadata = Assert.IsType<ReferenceExpression>(env[$"Dive__Auth__Realms__{realm}__MetadataAddress"]);
                Assert.EndsWith($"/realms/dive-v3-broker-{realm}/.well-known/openid-configuration", metadata.Format);
                var endpoint = Assert.IsType<EndpointReferenceExpression>(Assert.Single(metadata.ValueProviders)).Endpoint;
                Assert.Same(Get<KeycloakResource>(builder, $"keycloak-{realm}"), endpoint.Resource);
                Assert.Equal("http", endpoint.EndpointName);
            }
            Assert.Equal(codes.Length, env.Keys.Count(k => k.StartsWith("Dive__Auth__", StringComparison.Ordinal)));
            Assert.DoesNotContain("Dive__Auth__DevSigningKey", env.Keys);
            Assert.Equal([$"keycloak-{code}"], backend.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).Where(n => n.StartsWith("keycloak-", StringComparison.Ordinal)));
        }
        Assert.DoesNotContain(builder.Resources, r => r.Name == Federation.DevSigningKeyParameter);
    }

    [Fact]
    public async Task Container_runtime_without_keycloak_has_no_keycloak_no_realms_and_still_no_dev_key()
    {
        await using var builder = await BuildAsync("container", "rou", "Dive:Keycloak=false");
        Assert.DoesNotContain(builder.Resources, r => r.Name.StartsWith("keycloak-", StringComparison.Ordinal));
        var backend = Get<BackendExecutableResource>(builder, "backend-rou");
        Assert.DoesNotContain(backend.Annotations.OfType<WaitAnnotation>(), w => w.Resource.Name.StartsWith("keycloak-", StringComparison.Ordinal));
        var env = await EnvironmentAsync(backend);
        Assert.DoesNotContain(env.Keys, k => k.StartsWith("Dive__Auth__", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Process_runtime_has_no_keycloak_and_backends_only_the_dev_key()
    {
        await using var builder = await BuildAsync("process");
        Assert.Empty(builder.Resources.OfType<KeycloakResource>());
        Assert.DoesNotContain(builder.Resources, r => r.Name.StartsWith("keycloak-", StringComparison.Ordinal));
        var env = await EnvironmentAsync(Get<BackendExecutableResource>(builder, "backend-usa"));
        Assert.Equal(["Dive__Auth__DevSigningKey"], env.Keys.Where(k => k.StartsWith("Dive__Auth__", StringComparison.Ordinal)));
    }

    [Fact]
    public void Container_port_plan_allocates_keycloak_ports_without_collisions_for_every_instance()
    {
        var topology = DiveTopology.Load(AppHostArgs.InstancesDirectory);
        var ports = PortPlan.Allocate(topology, new PortPlanOptions(Monitoring: true, Keycloak: true));
        PortPlan.EnsureNoCollisions(ports);
        foreach (var instance in topology.Instances)
        {
            Assert.Contains(ports, p => p.Owner == instance.Code && p.Service == "keycloak-http" && p.Port == PortPlan.KeycloakHttp(instance.Country));
            Assert.Contains(ports, p => p.Owner == instance.Code && p.Service == "keycloak-https" && p.Port == PortPlan.KeycloakHttps(instance.Country));
        }
    }

    [Theory]
    [InlineData("usa")]
    [InlineData("rou")]
    [InlineData("bel")]
    [InlineData("dnk")]
    public void Committed_realm_files_define_the_broker_realm_users_dive_claims_and_no_password(string code)
    {
        var path = Path.Combine(AppHostArgs.InstancesDirectory, code, "realm.json");
        var text = File.ReadAllText(path);
        var realm = JsonDocument.Parse(text).RootElement;
        Assert.Equal($"dive-v3-broker-{code}", realm.GetProperty("realm").GetString());

        var users = realm.GetProperty("users").EnumerateArray().ToList();
        Assert.Contains(users, u => u.GetProperty("username").GetString() == $"testuser-{code}-1");
        foreach (var user in users)
        {
            var attributes = user.GetProperty("attributes");
            Assert.Equal(code.ToUpperInvariant(), attributes.GetProperty("countryOfAffiliation")[0].GetString());
            Assert.Equal(user.GetProperty("username").GetString(), attributes.GetProperty("uniqueID")[0].GetString());
            Assert.True(attributes.GetProperty("clearance")[0].GetString()!.Length > 0);
            // Passwords are Keycloak import placeholders, filled from the secret parameter at start.
            Assert.All(user.GetProperty("credentials").EnumerateArray(), c => Assert.Equal("${DIVE_TEST_USER_PASSWORD}", c.GetProperty("value").GetString()));
        }
        Assert.Contains(users, u => u.GetProperty("realmRoles").EnumerateArray().Any(r => r.GetString() == "dive-admin"));

        var client = Assert.Single(realm.GetProperty("clients").EnumerateArray());
        var mappers = client.GetProperty("protocolMappers").EnumerateArray().ToList();
        foreach (var claim in new[] { "uniqueID", "clearance", "countryOfAffiliation", "acpCOI", "roles" })
        {
            Assert.Contains(mappers, m => m.GetProperty("config").TryGetProperty("claim.name", out var name) && name.GetString() == claim);
        }
        Assert.Contains(mappers, m => m.GetProperty("config").TryGetProperty("included.custom.audience", out var aud) && aud.GetString() == Federation.Audience);
        Assert.DoesNotContain("\"password\":", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Failure_mode_reaches_every_backend_and_a_bad_value_is_a_clear_error()
    {
        await using (var builder = await BuildAsync("process", "rou", "Dive:Revocation:FailureMode=Closed"))
        {
            foreach (var code in new[] { "usa", "rou" })
            {
                // Forwarded as given; the backend reads it case-insensitively (RevocationUnitTests).
                Assert.Equal("Closed", (await EnvironmentAsync(Get<BackendExecutableResource>(builder, $"backend-{code}")))["Dive__Revocation__FailureMode"]);
            }
        }
        await using (var builder = await BuildAsync("process", "rou"))
        {
            Assert.DoesNotContain("Dive__Revocation__FailureMode", (await EnvironmentAsync(Get<BackendExecutableResource>(builder, "backend-usa"))).Keys);
        }
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("process", "rou", "Dive:Revocation:FailureMode=sometimes"));
        Assert.Contains("must be open or closed", ex.Message);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
