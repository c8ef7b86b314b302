using DiveAspire.Topology;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A Redis Sentinel of the HA shared store run from the machine's <c>redis-sentinel</c> (process runtime). Its
/// configuration file (0600, rewritten by Sentinel as it learns the topology) is generated at each start.
/// </summary>
public sealed class LocalSentinelResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";

    public EndpointReference PrimaryEndpoint => field ??= new(this, PrimaryEndpointName);

    public string ConfigPath => Path.Combine(WorkingDirectory, "sentinel.conf");

    public ReferenceExpression ConnectionStringExpression => RedisConnectionStrings.For(this, RedisAcl.OperatorUser);
}
