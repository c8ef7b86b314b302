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
            .WithHttpHealthCheck("/health/ready");

        // Dive:Revocation:FailureMode (open|closed) of this run reaches every backend; unset = the backend's default.
        if (builder.Configuration["Dive:Revocation:FailureMode"] is { Length: > 0 } failureMode)
        {
            backend.WithEnvironment("Dive__Revocation__FailureMode", failureMode.Trim().ToLowerInvariant() is "open" or "closed"
                ? failureMode.Trim().ToLowerInvariant()
                : throw new TopologyException($"Dive:Revocation:FailureMode must be open or closed (got '{failureMode}')."));
        }

        if (options.BackendReplicas > 1)
        {
            backend.WithReplicas(options.BackendReplicas);
        }

        redis.WithParentRelationship(backend);
        return backend;
    }
}
