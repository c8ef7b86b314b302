using DiveAspire.AppHost;
using DiveAspire.Topology;

namespace Aspire.Hosting;

public static class BackendBuilderExtensions
{
    /// <summary>
    /// One instance of the federation: its Redis and its backend (the same project for hub and spokes). The Redis is
    /// shown under its backend in the dashboard.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddDiveInstance(
        this IDistributedApplicationBuilder builder,
        InstanceDefinition instance,
        DiveTopology topology,
        IResourceBuilder<IResourceWithConnectionString> blacklist,
        DiveRuntime runtime,
        DiveOptions options)
    {
        var redis = builder.AddDiveRedis(RedisStoreSpec.ForInstance(instance), runtime, options);

        var backend = builder.AddProject<Projects.DiveAspire_Backend>(instance.BackendResourceName, project => project.ExcludeLaunchProfile = true)
            .WithHttpEndpoint(port: PortPlan.Backend(instance.Country), name: "http")
            .WithEnvironment("Dive__InstanceCode", instance.Code)
            .WithEnvironment("Dive__Role", instance.RoleName)
            .WithEnvironment("Dive__Runtime", runtime.ToString().ToLowerInvariant())
            .WithEnvironment("Dive__Federation", string.Join(',', topology.Instances.Select(i => i.Code)))
            .WithReference(redis, "cache")
            .WithReference(blacklist, "blacklist")
            .WaitFor(redis)
            .WaitFor(blacklist)
            .WithHttpHealthCheck("/health/ready")
            .WithBlacklistSyncCommand(instance);

        if (options.BackendReplicas > 1)
        {
            backend.WithReplicas(options.BackendReplicas);
        }

        redis.WithParentRelationship(backend);
        return backend;
    }
}
