namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// One instance's Keycloak (container runtime only), serving the realm <see cref="Realm"/> imported at start.
/// Modelled here because the Aspire.Hosting.Keycloak package is not available.
/// </summary>
public sealed class KeycloakResource(string name, string realm, ParameterResource adminPassword) : ContainerResource(name), IResourceWithServiceDiscovery
{
    public const string HttpEndpointName = "http";
    public const string HttpsEndpointName = "https";
    public const string ManagementEndpointName = "management";
    public const int HttpTargetPort = 8080;
    public const int HttpsTargetPort = 8443;
    /// <summary>Keycloak serves /health and /metrics on its management interface, not on the public port.</summary>
    public const int ManagementTargetPort = 9000;
    public const string AdminUser = "admin";
    public const string RealmImportDirectory = "/opt/keycloak/data/import";

    public string Realm { get; } = realm;

    /// <summary>Where users and backends elsewhere reach this realm (a deployment's https URL); null: this machine's planned port.</summary>
    public string? PublicUrl { get; init; }

    /// <summary>The <c>iss</c> of this realm's tokens (<see cref="DiveAspire.Topology.Federation.Issuer"/>).</summary>
    public string Issuer(DiveAspire.Topology.Country country) =>
        DiveAspire.Topology.Federation.Issuer(country, PublicUrl is null ? null : DiveAspire.Topology.Federation.IssuerAt(country, PublicUrl));
    public ParameterResource AdminPassword { get; } = adminPassword;

    public EndpointReference HttpEndpoint => field ??= new(this, HttpEndpointName);

    /// <summary>Where a backend on the host fetches the realm's OpenID metadata (signing keys).</summary>
    public ReferenceExpression MetadataAddress =>
        ReferenceExpression.Create($"{HttpEndpoint.Property(EndpointProperty.Url)}/realms/{Realm}/.well-known/openid-configuration");
}
