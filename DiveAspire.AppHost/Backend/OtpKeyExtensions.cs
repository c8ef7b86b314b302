using DiveAspire.Topology;

namespace Aspire.Hosting;

public static class OtpKeyExtensions
{
    /// <summary>
    /// The key each backend encrypts pending OTP secrets with in its Redis: one secret parameter per instance
    /// (<c>otp-key-&lt;code&gt;</c>), generated on first run and kept in the AppHost's user secrets like the Redis
    /// passwords, given to the backend as the environment variable <c>Dive__Otp__Key</c> (never an argument).
    /// </summary>
    public static IResourceBuilder<T> WithOtpKey<T>(this IResourceBuilder<T> backend, IDistributedApplicationBuilder builder, InstanceDefinition instance)
        where T : IResourceWithEnvironment
    {
        var key = builder.AddParameter(ParameterName(instance), new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);
        return backend.WithEnvironment("Dive__Otp__Key", key);
    }

    public static string ParameterName(InstanceDefinition instance) => $"otp-key-{instance.LowerCode}";
}
