using DiveAspire.Topology;

namespace Aspire.Hosting;

public static class RedisPasswordExtensions
{
    /// <summary>
    /// One secret parameter per ACL user of a Redis (<see cref="RedisUser.PasswordParameterName"/>), generated on first
    /// run and kept in the AppHost's user secrets. <c>Parameters__&lt;name&gt;</c> overrides it, and so does the
    /// original's variable (<c>REDIS_PASSWORD_&lt;LABEL&gt;</c> for admin, <c>REDIS_PASSWORD_&lt;LABEL&gt;_&lt;USER&gt;</c> for the others).
    /// </summary>
    public static RedisUsersAnnotation AddRedisUserPasswords(this IDistributedApplicationBuilder builder, RedisStoreSpec spec, DiveTopology topology) =>
        new([.. RedisAcl.Users(spec, topology).Select(user => new RedisUserPassword(user, builder.AddRedisPassword(user).Resource))]);

    private static IResourceBuilder<ParameterResource> AddRedisPassword(this IDistributedApplicationBuilder builder, RedisUser user)
    {
        var name = user.PasswordParameterName;
        var legacy = builder.Configuration[user.PasswordEnvironmentVariable];
        var explicitParameter = DiveAspire.AppHost.InheritedSecrets.Variable($"Parameters__{name}");
        if (!string.IsNullOrEmpty(legacy) && string.IsNullOrEmpty(explicitParameter))
        {
            builder.Configuration[$"Parameters:{name}"] = legacy;
        }

        // No special characters: StackExchange.Redis cannot parse a password containing a comma.
        var generated = new GenerateParameterDefault { MinLength = 32, Special = false };
        return builder.AddParameter(name, generated, secret: true, persist: true);
    }
}
