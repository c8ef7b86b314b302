using DiveAspire.AppHost;
using DiveAspire.Topology;

namespace Aspire.Hosting;

/// <summary>
/// Whom every backend trusts: the development signing key (process runtime) or every instance's Keycloak realm, by
/// lower-case instance code (container runtime).
/// </summary>
public sealed record FederationTrust(
    IResourceBuilder<ParameterResource>? DevSigningKey,
    IReadOnlyDictionary<string, IResourceBuilder<KeycloakResource>> Keycloaks);

public static class AuthBuilderExtensions
{
    /// <summary>
    /// Process runtime has no Keycloak: the AppHost generates one development signing key (a secret parameter kept in
    /// user secrets) that every backend trusts and `./dive token mint` signs with. It is never configured in container
    /// runtime, so such a token is rejected there. Container runtime runs one Keycloak per instance, unless
    /// Dive:Keycloak=false leaves it out where no Keycloak image can be had (the backends then accept no token at all).
    /// </summary>
    public static FederationTrust AddFederationTrust(this IDistributedApplicationBuilder builder, DiveTopology topology, DiveRuntime runtime, DiveOptions options)
    {
        var devSigningKey = runtime == DiveRuntime.Process
            ? builder.AddParameter(Federation.DevSigningKeyParameter, new GenerateParameterDefault { MinLength = 64, Special = false }, secret: true, persist: true)
            : null;
        var keycloaks = runtime == DiveRuntime.Container && options.Keycloak
            ? builder.AddDiveKeycloaks(topology, builder.AddKeycloakSecrets())
            : new Dictionary<string, IResourceBuilder<KeycloakResource>>();
        return new FederationTrust(devSigningKey, keycloaks);
    }

    public static IResourceBuilder<T> WithFederationTrust<T>(this IResourceBuilder<T> backend, FederationTrust trust, InstanceDefinition instance)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
    {
        if (trust.DevSigningKey is not null)
        {
            backend.WithEnvironment("Dive__Auth__DevSigningKey", trust.DevSigningKey);
        }
        if (trust.Keycloaks.Count > 0)
        {
            backend.WithFederationRealms(trust.Keycloaks, instance);
        }
        return backend;
    }
}
