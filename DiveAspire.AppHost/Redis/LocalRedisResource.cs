namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A Redis server run from the machine's own <c>redis-server</c> binary, for machines without a container runtime.
/// Its connection string has the same shape as Aspire's Redis container resource, so consumers cannot tell them apart.
/// </summary>
public sealed class LocalRedisResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => field ??= new(this, PrimaryEndpointName);

    /// <summary>File holding <c>requirepass</c>; passed as redis-server's config file so the password never appears in arguments.</summary>
    public string SecretConfigPath => Path.Combine(WorkingDirectory, "secret.conf");

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)},password={PasswordParameter}");
}
