using DiveAspire.Topology;

namespace Aspire.Hosting;

/// <summary>Connection strings (StackExchange.Redis syntax) that log in to a Redis of the federation as one of its ACL users.</summary>
public static class RedisConnectionStrings
{
    public static RedisUsersAnnotation Users(this IResource redis) =>
        redis.Annotations.OfType<RedisUsersAnnotation>().SingleOrDefault()
        ?? throw new InvalidOperationException($"{redis.Name} has no ACL users (AddDiveRedis adds them).");

    /// <summary>
    /// <c>host:port,user=...,password=...</c> through the Redis's <c>tcp</c> endpoint; for every user but admin also the
    /// client options that keep StackExchange.Redis from trying what the ACL refuses (<see cref="RedisAcl.ClientOptions"/>).
    /// </summary>
    public static ReferenceExpression For(IResourceWithConnectionString redis, string userName)
    {
        var endpoint = new EndpointReference((IResourceWithEndpoints)redis, "tcp");
        var password = redis.Users()[userName].Password;
        var options = (redis is RedisResource { TlsEnabled: true } || redis.TlsCaCertificate() is not null ? ",ssl=true" : "") + (userName == RedisAcl.AdminUser ? "" : RedisAcl.ClientOptions);
        return ReferenceExpression.Create($"{endpoint.Property(EndpointProperty.HostAndPort)},user={userName},password={password}{options}");
    }

    /// <summary>
    /// What a client of the store gets: the hub's address when joining a remote hub (<see cref="RemoteSharedStoreResource"/>),
    /// through the Sentinels for the HA shared store (<see cref="SentinelServiceAnnotation"/>), else the Redis's own address (<see cref="For"/>).
    /// </summary>
    public static ReferenceExpression ForClient(IResourceWithConnectionString redis, string userName) =>
        redis is RemoteSharedStoreResource remote ? remote.ClientConnectionString(userName)
        : redis.Annotations.OfType<SentinelServiceAnnotation>().SingleOrDefault() is { } sentinels
            ? sentinels.ConnectionString(redis, userName)
            : For(redis, userName);

    /// <summary>
    /// Gives a client <c>ConnectionStrings__&lt;name&gt;</c> for one user, resolved when the client starts; it waits for
    /// the Redis unless <paramref name="waitForRedis"/> is false (a backend must start while the shared store is down).
    /// </summary>
    public static IResourceBuilder<T> WithRedisUser<T>(
        this IResourceBuilder<T> client, string connectionName, IResourceBuilder<IResourceWithConnectionString> redis, string userName, bool waitForRedis = true)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
    {
        client
            .WithEnvironment(context =>
            {
                context.EnvironmentVariables[$"ConnectionStrings__{connectionName}"] = ForClient(redis.Resource, userName);
                // A store speaking TLS is validated against its CA only (RedisClientSetup; a path, not a secret).
                if (redis.Resource.TlsCaCertificate() is { } ca)
                {
                    context.EnvironmentVariables[RedisTls.CaVariable(connectionName)] = ca;
                }
            })
            .WithRelationship(redis.Resource, "Reference");
        return waitForRedis ? client.WaitFor(redis) : client;
    }
}
