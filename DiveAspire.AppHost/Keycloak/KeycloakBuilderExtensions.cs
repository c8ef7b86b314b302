using DiveAspire.Topology;

namespace Aspire.Hosting;

public static class KeycloakBuilderExtensions
{
    public const string AdminPasswordParameter = "keycloak-admin-password";
    public const string TestUserPasswordParameter = "keycloak-test-user-password";
    /// <summary>The placeholder the committed realm files use for every test user's password (Keycloak substitutes it at import).</summary>
    public const string TestUserPasswordVariable = "DIVE_TEST_USER_PASSWORD";
    public const string RealmFileName = "realm.json";

    /// <summary>The two generated secrets every Keycloak shares (container runtime only).</summary>
    public sealed record KeycloakSecrets(IResourceBuilder<ParameterResource> AdminPassword, IResourceBuilder<ParameterResource> TestUserPassword);

    public static KeycloakSecrets AddKeycloakSecrets(this IDistributedApplicationBuilder builder)
    {
        var generated = new GenerateParameterDefault { MinLength = 24, Special = false };
        return new(
            builder.AddParameter(AdminPasswordParameter, generated, secret: true, persist: true),
            builder.AddParameter(TestUserPasswordParameter, generated, secret: true, persist: true));
    }

    /// <summary>
    /// The instance's Keycloak: realm dive-v3-broker-&lt;code&gt; imported from instances/&lt;code&gt;/realm.json, host ports
    /// from the port plan, tokens issued as https://localhost:&lt;KeycloakHttps&gt;/realms/&lt;realm&gt; (= Federation.Issuer).
    /// </summary>
    public static IResourceBuilder<KeycloakResource> AddDiveKeycloak(this IDistributedApplicationBuilder builder, InstanceDefinition instance, KeycloakSecrets secrets)
    {
        var realmFile = Path.Combine(instance.Directory, RealmFileName);
        if (!File.Exists(realmFile))
        {
            throw new TopologyException($"{realmFile} is missing: the container runtime imports each instance's Keycloak realm from it.");
        }
        var country = instance.Country;
        var keycloak = new KeycloakResource($"keycloak-{instance.LowerCode}", Federation.Realm(country), secrets.AdminPassword.Resource)
        {
            PublicUrl = RealmPublicUrl(builder, instance),
        };
        return builder.AddResource(keycloak)
            .WithImage(KeycloakImageTags.Image, KeycloakImageTags.Tag)
            .WithImageRegistry(KeycloakImageTags.Registry)
            .WithHttpEndpoint(port: PortPlan.KeycloakHttp(country), targetPort: KeycloakResource.HttpTargetPort, name: KeycloakResource.HttpEndpointName)
            .WithHttpsEndpoint(port: PortPlan.KeycloakHttps(country), targetPort: KeycloakResource.HttpsTargetPort, name: KeycloakResource.HttpsEndpointName)
            .WithHttpEndpoint(targetPort: KeycloakResource.ManagementTargetPort, name: KeycloakResource.ManagementEndpointName)
            .WithEnvironment("KC_BOOTSTRAP_ADMIN_USERNAME", KeycloakResource.AdminUser)
            .WithEnvironment("KC_BOOTSTRAP_ADMIN_PASSWORD", secrets.AdminPassword)
            .WithEnvironment("KC_HEALTH_ENABLED", "true")
            .WithEnvironment("KC_HOSTNAME", keycloak.PublicUrl ?? "https://localhost:" + PortPlan.KeycloakHttps(country).ToString(System.Globalization.CultureInfo.InvariantCulture))
            // The backend fetches metadata and keys over the plain HTTP port; the issuer stays the public https URL.
            .WithEnvironment("KC_HOSTNAME_BACKCHANNEL_DYNAMIC", "true")
            .WithEnvironment(TestUserPasswordVariable, secrets.TestUserPassword)
            .WithBindMount(realmFile, $"{KeycloakResource.RealmImportDirectory}/{RealmFileName}", isReadOnly: true)
            .WithArgs("start-dev", "--import-realm")
            .WithHttpHealthCheck("/health/ready", endpointName: KeycloakResource.ManagementEndpointName);
    }

    /// <summary>
    /// A realm's public URL: <c>Dive:Realms:&lt;code&gt;:PublicUrl</c>, or when publishing https://keycloak.&lt;code&gt;.&lt;Dive:Publish:Domain&gt;;
    /// null keeps this machine's https://localhost:&lt;planned port&gt;.
    /// </summary>
    private static string? RealmPublicUrl(IDistributedApplicationBuilder builder, InstanceDefinition instance) =>
        builder.ExecutionContext.IsPublishMode
            ? DiveAspire.AppHost.Kubernetes.PublishSettings.RealmUrlFor(builder.Configuration, instance,
                builder.Configuration["Dive:Publish:Domain"] is { Length: > 0 } domain ? domain : DiveAspire.AppHost.Kubernetes.PublishSettings.DefaultDomain)
            : builder.Configuration[$"Dive:Realms:{instance.LowerCode}:PublicUrl"] is { Length: > 0 }
                ? DiveAspire.AppHost.Kubernetes.PublishSettings.RealmUrlFor(builder.Configuration, instance, "")
                : null;

    /// <summary>Every instance's Keycloak, by lower-case instance code.</summary>
    public static IReadOnlyDictionary<string, IResourceBuilder<KeycloakResource>> AddDiveKeycloaks(
        this IDistributedApplicationBuilder builder, DiveTopology topology, KeycloakSecrets secrets) =>
        topology.LocalInstances.ToDictionary(instance => instance.LowerCode, instance => builder.AddDiveKeycloak(instance, secrets));

    /// <summary>
    /// The backend trusts every realm of the federation: it gets each Keycloak's metadata address
    /// (<c>Dive__Auth__Realms__&lt;code&gt;__MetadataAddress</c>) and checks a token with its own realm's keys. It waits for
    /// its own Keycloak only: another realm's keys are fetched on its first token, and a realm can issue tokens only once
    /// it is up, so waiting for all would only let one broken spoke Keycloak hold back every backend.
    /// </summary>
    public static IResourceBuilder<T> WithFederationRealms<T>(
        this IResourceBuilder<T> backend, IReadOnlyDictionary<string, IResourceBuilder<KeycloakResource>> keycloaks, InstanceDefinition instance)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
    {
        foreach (var (code, keycloak) in keycloaks)
        {
            backend.WithEnvironment($"Dive__Auth__Realms__{code}__MetadataAddress", keycloak.Resource.MetadataAddress);
            if (keycloak.Resource.PublicUrl is not null)
            {
                backend.WithEnvironment($"Dive__Auth__Realms__{code}__Issuer", keycloak.Resource.Issuer(NatoCatalog.Get(code)));
            }
        }
        return backend.WaitFor(keycloaks[instance.LowerCode]);
    }
}
