using DiveAspire.AppHost;
using DiveAspire.Topology;

namespace Aspire.Hosting;

/// <summary>
/// Whom every backend trusts: the development signing key (process runtime) or every instance's Keycloak realm, by
/// lower-case instance code (container runtime).
/// </summary>
public sealed record FederationTrust(
    IResourceBuilder<ParameterResource>? DevSigningKey,
    IReadOnlyDictionary<string, IResourceBuilder<KeycloakResource>> Keycloaks,
    IResourceBuilder<ParameterResource> FederationKey)
{
    /// <summary>
    /// Realms of instances that run elsewhere (a joined hub, remote spokes) whose Keycloak is given as
    /// <c>Dive:Realms:&lt;code&gt;:PublicUrl</c>: their issuer, by upper-case code.
    /// </summary>
    public IReadOnlyDictionary<string, string> RemoteIssuers { get; init; } = new Dictionary<string, string>();
}

public static class AuthBuilderExtensions
{
    /// <summary>
    /// Process runtime has no Keycloak: the AppHost generates one development signing key (a secret parameter kept in
    /// user secrets) that every backend trusts and `./dive token mint` signs with. It is never configured in container
    /// runtime, so such a token is rejected there. Container runtime runs one Keycloak per instance, unless
    /// Dive:Keycloak=false leaves it out where no Keycloak image can be had (the backends then accept no token at all).
    /// Publishing never includes the development key, and a development key passed to a backend by configuration
    /// (<c>Dive:Backends:&lt;code&gt;:Auth:DevSigningKey</c>) outside the process run stops the AppHost.
    /// Every runtime has the federation key, with which backends sign the search-only credentials they send each other.
    /// </summary>
    public static FederationTrust AddFederationTrust(this IDistributedApplicationBuilder builder, DiveTopology topology, DiveRuntime runtime, DiveOptions options)
    {
        var development = runtime == DiveRuntime.Process && !builder.ExecutionContext.IsPublishMode;
        if (!development && topology.Instances.FirstOrDefault(i => builder.Configuration[$"Dive:Backends:{i.LowerCode}:Auth:DevSigningKey"] is { Length: > 0 }) is { } configured)
        {
            throw new TopologyException($"Dive:Backends:{configured.LowerCode}:Auth:DevSigningKey is set: the development signing key is for the process runtime's run mode only (never in container runtime or when publishing).");
        }
        var devSigningKey = development
            ? builder.AddParameter(Federation.DevSigningKeyParameter, new GenerateParameterDefault { MinLength = 64, Special = false }, secret: true, persist: true)
            : null;
        var federationKey = builder.AddParameter(Federation.FederationKeyParameter, new GenerateParameterDefault { MinLength = 64, Special = false }, secret: true, persist: true);
        var keycloaks = runtime == DiveRuntime.Container && options.Keycloak
            ? builder.AddDiveKeycloaks(topology, builder.AddKeycloakSecrets())
            : new Dictionary<string, IResourceBuilder<KeycloakResource>>();
        var remoteIssuers = topology.Federation.Where(i => !topology.LocalInstances.Contains(i))
            .Where(i => builder.Configuration[$"Dive:Realms:{i.LowerCode}:PublicUrl"] is { Length: > 0 })
            .ToDictionary(i => i.Code, i => Federation.IssuerAt(i.Country, DiveAspire.AppHost.Kubernetes.PublishSettings.RealmUrlFor(builder.Configuration, i, "")));
        return new FederationTrust(devSigningKey, keycloaks, federationKey) { RemoteIssuers = remoteIssuers };
    }

    public static IResourceBuilder<T> WithFederationTrust<T>(this IResourceBuilder<T> backend, FederationTrust trust, InstanceDefinition instance)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
    {
        backend.WithEnvironment("Dive__FederationKey", trust.FederationKey);
        if (trust.DevSigningKey is not null)
        {
            backend.WithEnvironment("Dive__Auth__DevSigningKey", trust.DevSigningKey);
        }
        if (trust.Keycloaks.Count > 0)
        {
            backend.WithFederationRealms(trust.Keycloaks, instance);
        }
        foreach (var (code, issuer) in trust.RemoteIssuers)
        {
            backend.WithEnvironment($"Dive__Auth__Realms__{code}__Issuer", issuer);
            if (trust.Keycloaks.Count > 0)
            {
                // Keycloak's keys are fetched from the realm's metadata (the development key of the process runtime needs none).
                backend.WithEnvironment($"Dive__Auth__Realms__{code}__MetadataAddress", $"{issuer}/.well-known/openid-configuration");
            }
        }
        return backend;
    }
}
