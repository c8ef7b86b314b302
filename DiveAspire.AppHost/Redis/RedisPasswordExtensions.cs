using DiveAspire.Topology;

namespace Aspire.Hosting;

public static class RedisPasswordExtensions
{
    /// <summary>
    /// One secret parameter per Redis (redis-password-&lt;label&gt;), generated on first run and kept in the
    /// AppHost's user secrets. <c>Parameters__redis-password-x</c> overrides it, and so does the original's
    /// <c>REDIS_PASSWORD_&lt;CODE&gt;</c> variable.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddRedisPassword(this IDistributedApplicationBuilder builder, RedisStoreSpec spec)
    {
        var name = spec.PasswordParameterName;
        var legacy = builder.Configuration[spec.PasswordEnvironmentVariable];
        var explicitParameter = Environment.GetEnvironmentVariable($"Parameters__{name}");
        if (!string.IsNullOrEmpty(legacy) && string.IsNullOrEmpty(explicitParameter))
        {
            builder.Configuration[$"Parameters:{name}"] = legacy;
        }

        // No special characters: StackExchange.Redis cannot parse a password containing a comma.
        var generated = new GenerateParameterDefault { MinLength = 32, Special = false };
        return builder.AddParameter(name, generated, secret: true, persist: true);
    }
}
