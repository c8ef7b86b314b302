using DiveAspire.AppHost;
using DiveAspire.Topology;

namespace Aspire.Hosting;

public static class AuthBuilderExtensions
{
    /// <summary>
    /// Process runtime has no Keycloak: the AppHost generates one development signing key (a secret parameter kept in
    /// user secrets) that every backend trusts and `./dive token mint` signs with. It is never configured in container
    /// runtime, so such a token is rejected there.
    /// </summary>
    public static IResourceBuilder<ParameterResource>? AddDevSigningKey(this IDistributedApplicationBuilder builder, DiveRuntime runtime) =>
        runtime == DiveRuntime.Process
            ? builder.AddParameter(Federation.DevSigningKeyParameter, new GenerateParameterDefault { MinLength = 64, Special = false }, secret: true, persist: true)
            : null;

    public static IResourceBuilder<ProjectResource> WithDevSigningKey(this IResourceBuilder<ProjectResource> backend, IResourceBuilder<ParameterResource>? key) =>
        key is null ? backend : backend.WithEnvironment("Dive__Auth__DevSigningKey", key);
}
