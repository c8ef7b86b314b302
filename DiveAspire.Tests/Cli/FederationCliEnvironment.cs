using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Cli;

/// <summary>
/// Points the CLI at the running test federation: DIVE_REDIS_ENDPOINT_*, REDIS_PASSWORD_*, DIVE_BACKEND_ENDPOINT_* and
/// the dev signing key from the fixture; instances in instances/ that the fixture does not run get a closed port.
/// Everything is restored on Dispose.
/// </summary>
public static class FederationCliEnvironment
{
    public static async Task<EnvironmentScope> SetAsync(FederationFixture federation)
    {
        var env = new EnvironmentScope()
            .Set("DIVE_USER_SECRETS_FILE", Path.Combine(Path.GetTempPath(), $"dive-no-secrets-{Guid.NewGuid():N}.json"))
            .Set("DIVE_ADMIN_TOKEN", null)
            .Set("DIVE_DEV_SIGNING_KEY", federation.Secrets.DevSigningKey);
        var running = federation.Topology.Instances.Select(i => i.Code).ToHashSet();
        foreach (var spec in federation.Topology.RedisStores)
        {
            var (host, port) = await federation.RedisEndpointAsync(spec.ResourceName);
            env.Set($"DIVE_REDIS_ENDPOINT_{spec.Label.ToUpperInvariant()}", $"{host}:{port}")
                .Set(spec.PasswordEnvironmentVariable, federation.Secrets.For(spec))
                .Set(RedisAcl.Operator(spec).PasswordEnvironmentVariable, federation.Secrets.For(RedisAcl.Operator(spec)));
        }
        foreach (var instance in federation.Topology.Instances)
        {
            env.Set($"DIVE_BACKEND_ENDPOINT_{instance.Code}", federation.App.GetEndpoint(instance.BackendResourceName, "http").ToString());
        }
        foreach (var absent in DiveTopology.Load(AppHostArgs.InstancesDirectory).Instances.Where(i => !running.Contains(i.Code)))
        {
            var closed = FreePort.Next();
            env.Set($"DIVE_REDIS_ENDPOINT_{absent.Code}", $"127.0.0.1:{closed}")
                .Set($"REDIS_PASSWORD_{absent.Code}", null)
                .Set($"REDIS_PASSWORD_{absent.Code}_OPERATOR", null)
                .Set($"DIVE_BACKEND_ENDPOINT_{absent.Code}", $"http://127.0.0.1:{closed}");
        }
        return env;
    }
}
