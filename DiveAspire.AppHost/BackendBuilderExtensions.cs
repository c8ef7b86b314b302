using DiveAspire.AppHost;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

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

        // Dive:Revocation:FailureMode (open|closed) reaches every backend with the other forwarded settings below;
        // checked here so a typo stops the AppHost instead of every backend.
        if (builder.Configuration["Dive:Revocation:FailureMode"] is { Length: > 0 } failureMode
            && failureMode.Trim().ToLowerInvariant() is not ("open" or "closed"))
        {
            throw new TopologyException($"Dive:Revocation:FailureMode must be open or closed (got '{failureMode}').");
        }

        var replicas = options.ReplicasFor(instance.Code);
        if (replicas > 1)
        {
            backend.WithReplicas(replicas);
        }
        backend.WithForwardedBackendSettings(builder.Configuration, instance)
            .WithFederationPeers(builder);

        redis.WithParentRelationship(backend);
        return backend;
    }

    /// <summary>Backend settings given to the AppHost (<c>Dive:RateLimits:*</c>, <c>Dive:FederatedSearch:*</c>, <c>Dive:Revocation:*</c>, or
    /// <c>Dive:Backends:&lt;code&gt;:...</c> for one backend) are passed on as <c>Dive__...</c> environment variables.</summary>
    private static IResourceBuilder<ProjectResource> WithForwardedBackendSettings(
        this IResourceBuilder<ProjectResource> backend, IConfiguration config, InstanceDefinition instance)
    {
        foreach (var section in new[] { "RateLimits", "FederatedSearch", "Revocation" })
        {
            foreach (var (key, value) in config.GetSection($"Dive:{section}").AsEnumerable(makePathsRelative: true))
            {
                if (value is not null)
                {
                    backend.WithEnvironment($"Dive__{section}__{key.Replace(":", "__")}", value);
                }
            }
        }
        foreach (var (key, value) in config.GetSection($"Dive:Backends:{instance.LowerCode}").AsEnumerable(makePathsRelative: true))
        {
            if (value is not null)
            {
                backend.WithEnvironment($"Dive__{key.Replace(":", "__")}", value);
            }
        }
        return backend;
    }

    /// <summary>Each backend knows every other backend by service discovery (https+http://backend-&lt;code&gt;), for federated search.</summary>
    private static IResourceBuilder<ProjectResource> WithFederationPeers(this IResourceBuilder<ProjectResource> backend, IDistributedApplicationBuilder builder)
    {
        foreach (var peer in builder.Resources.OfType<ProjectResource>().Where(p => p.Name.StartsWith("backend-", StringComparison.Ordinal) && p != backend.Resource).ToList())
        {
            var peerBuilder = builder.CreateResourceBuilder(peer);
            backend.WithReference(peerBuilder);
            peerBuilder.WithReference(backend);
        }
        return backend;
    }
}
