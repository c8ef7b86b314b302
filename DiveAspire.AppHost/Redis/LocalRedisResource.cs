using DiveAspire.Topology;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A Redis server run from the machine's own <c>redis-server</c> binary, for machines without a container runtime (and,
/// for the HA shared store in the container runtime, from the Redis image on the host's network: <see cref="HaContainerLaunch"/>).
/// Its connection string has the same shape as the container runtime's (host:port, the operator user), so consumers
/// cannot tell them apart.
/// </summary>
public sealed class LocalRedisResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";

    public EndpointReference PrimaryEndpoint => field ??= new(this, PrimaryEndpointName);

    /// <summary>redis-server's config file, holding only <c>aclfile</c>: no password ever appears in its arguments.</summary>
    public string SecretConfigPath => Path.Combine(WorkingDirectory, "secret.conf");

    /// <summary>The ACL file (0600), written at each start from the topology.</summary>
    public string AclFilePath => Path.Combine(WorkingDirectory, "users.acl");

    public ReferenceExpression ConnectionStringExpression => RedisConnectionStrings.For(this, RedisAcl.OperatorUser);
}
