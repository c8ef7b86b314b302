using DiveAspire.Topology;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// On the HA shared store's primary resource: clients reach the store through these Sentinels
/// (<c>h1:p1,h2:p2,h3:p3,serviceName=dive-blacklist,user=...,password=...</c>), never through one node's address.
/// </summary>
public sealed class SentinelServiceAnnotation(IReadOnlyList<IResourceWithEndpoints> sentinels) : IResourceAnnotation
{
    public IReadOnlyList<IResourceWithEndpoints> Sentinels { get; } = sentinels;

    public ReferenceExpression ConnectionString(IResource store, string userName)
    {
        var password = store.Users()[userName].Password;
        var builder = new ReferenceExpressionBuilder();
        foreach (var sentinel in Sentinels)
        {
            var endpoint = new EndpointReference(sentinel, "tcp");
            builder.Append($"{endpoint.Property(EndpointProperty.HostAndPort)},");
        }
        var options = userName == RedisAcl.AdminUser ? "" : RedisAcl.ClientOptions;
        builder.Append($"serviceName={BlacklistHighAvailability.ServiceName},user={userName},password={password}{options}");
        return builder.Build();
    }
}
