using DiveAspire.AppHost;
using DiveAspire.AppHost.Backend;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting;

public static class BackendBuilderExtensions
{
    /// <summary>
    /// One instance of the federation: its Redis and its backend (the same program for hub and spokes). The Redis is
    /// shown under its backend in the dashboard.
    /// </summary>
    public static IResourceBuilder<IResourceWithServiceDiscovery> AddDiveInstance(
        this IDistributedApplicationBuilder builder,
        InstanceDefinition instance,
        DiveTopology topology,
        IResourceBuilder<IResourceWithConnectionString> blacklist,
        FederationTrust trust,
        DiveRuntime runtime,
        DiveOptions options)
    {
        // Dive:Revocation:FailureMode (open|closed) reaches every backend with the other forwarded settings below;
        // checked here so a typo stops the AppHost instead of every backend.
        if (builder.Configuration["Dive:Revocation:FailureMode"] is { Length: > 0 } failureMode
            && failureMode.Trim().ToLowerInvariant() is not ("open" or "closed"))
        {
            throw new TopologyException($"Dive:Revocation:FailureMode must be open or closed (got '{failureMode}').");
        }

        var redis = builder.AddDiveRedis(RedisStoreSpec.ForInstance(instance), topology, runtime, options);
        var replicas = options.ReplicasFor(instance.Code);
        // One replica needs no proxy: the port plan's port is then Kestrel's own (about twice /health/live's rate).
        var proxied = options.ProxiedFor(instance.Code);
        var project = new Projects.DiveAspire_Backend();
        var binary = BackendLaunch.BinaryPath(project.ProjectPath);
        var aot = !builder.ExecutionContext.IsPublishMode && BackendLaunch.BuildFor(builder.Configuration, instance.LowerCode) == BackendBuild.Aot;
        if (aot)
        {
            binary = BackendLaunch.RequireAot(instance.BackendResourceName, replicas, BackendLaunch.AotBinaryPath(project.ProjectPath));
        }
        IResourceBuilder<IResourceWithServiceDiscovery> backend;
        if (aot || BackendLaunch.Resolve(options.BackendLaunch, instance.BackendResourceName, replicas,
                projectOnly: options.IdeSession || builder.ExecutionContext.IsPublishMode, binary) == BackendLaunchMode.Executable)
        {
            backend = builder.AddResource(new BackendExecutableResource(instance.BackendResourceName, binary, Path.GetDirectoryName(project.ProjectPath)!))
                .WithHttpEndpoint(port: PortPlan.Backend(instance.Country), name: "http", isProxied: proxied)
                .WithBindAddress("http", options.BackendBindAddress)
                .WithFreePortWhenRandomized(builder, proxied)
                .WithProjectLikeEnvironment()
                .WithHttpsBeyondLoopback(builder, options)
                .WithEnvironment("Dive__ExitWithOrchestrator", "true")
                .WithOtlpExporter()
                .ConfigureBackend(instance, topology, redis, blacklist, trust, runtime, builder);
        }
        else
        {
            // DisableForwardedHeaders: Aspire would otherwise make the backend believe X-Forwarded-For from any address.
            var projectBackend = builder.AddProject<Projects.DiveAspire_Backend>(instance.BackendResourceName, p => p.ExcludeLaunchProfile = true)
                .WithHttpEndpoint(port: PortPlan.Backend(instance.Country), name: "http", isProxied: proxied)
                .WithBindAddress("http", options.BackendBindAddress)
                .WithFreePortWhenRandomized(builder, proxied)
                .DisableForwardedHeaders();
            if (replicas > 1)
            {
                projectBackend.WithReplicas(replicas);
            }
            backend = projectBackend.ConfigureBackend(instance, topology, redis, blacklist, trust, runtime, builder);
        }
        redis.WithParentRelationship(backend);
        backend.WithBackendLinks();
        return backend;
    }

    /// <summary>What Aspire gives a project resource and the backend relies on: Kestrel on the endpoint's (proxied) target port, plain console logs.</summary>
    private static IResourceBuilder<BackendExecutableResource> WithProjectLikeEnvironment(this IResourceBuilder<BackendExecutableResource> backend)
    {
        var http = backend.GetEndpoint("http");
        return backend
            // Without a proxy Kestrel itself takes the endpoint's target host: every interface where containers must
            // reach the backends (ContainerHostAccess sets 0.0.0.0 after this), else loopback.
            // (Dive:Backend:BindAddress sets another target host: a wildcard alone, or one address plus localhost.)
            .WithEnvironment(context => context.EnvironmentVariables["ASPNETCORE_URLS"] = KestrelHost(http) is var host && host is "localhost" or "0.0.0.0" or "[::]"
                ? ReferenceExpression.Create($"http://{host}:{http.Property(EndpointProperty.TargetPort)}")
                : ReferenceExpression.Create($"http://localhost:{http.Property(EndpointProperty.TargetPort)};http://{host}:{http.Property(EndpointProperty.TargetPort)}"))
            .WithEnvironment("LOGGING__CONSOLE__FORMATTERNAME", "simple")
            .WithEnvironment("DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION", "true");
    }

    private static string KestrelHost(EndpointReference http) =>
        http.EndpointAnnotation is { IsProxied: false, TargetHost: var host } && host != "localhost" && System.Net.IPAddress.TryParse(host, out var address)
            ? (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host)
            : "localhost";

    private static IResourceBuilder<T> ConfigureBackend<T>(
        this IResourceBuilder<T> backend,
        InstanceDefinition instance,
        DiveTopology topology,
        IResourceBuilder<IResourceWithConnectionString> redis,
        IResourceBuilder<IResourceWithConnectionString> blacklist,
        FederationTrust trust,
        DiveRuntime runtime,
        IDistributedApplicationBuilder builder)
        where T : class, IResourceWithEnvironment, IResourceWithServiceDiscovery, IResourceWithWaitSupport =>
        backend
            .WithEnvironment("Dive__InstanceCode", instance.Code)
            .WithEnvironment("Dive__Role", instance.RoleName)
            .WithEnvironment("Dive__Runtime", runtime.ToString().ToLowerInvariant())
            .WithEnvironment("Dive__Federation", string.Join(',', topology.Federation.Select(i => i.Code)))
            .WithEnvironment("Dive__Hub", topology.Hub.Code)
            // Each store with the backend's own ACL user: "backend" on its Redis, "backend-<code>" on the shared one
            // ("backend-<code>-ro" for a spoke on another machine than the hub: it relays its revocations to the hub).
            .WithRedisUser("cache", redis, RedisAcl.Backend(RedisStoreSpec.ForInstance(instance), instance).Name)
            // No wait for the shared store: a backend must (re)start while it is down. It then runs not ready
            // (/health/ready 503, tokens 503) until its first revocation sync, which it completes by itself.
            .WithRedisUser("blacklist", blacklist, RedisAcl.SharedStoreUser(topology, instance).Name, waitForRedis: false)
            .WithHttpHealthCheck("/health/ready")
            .WithBlacklistSyncCommand(instance)
            .WithFederationTrust(trust, instance)
            .WithOtpKey(builder, instance)
            .WithForwardedBackendSettings(builder.Configuration, instance)
            .WithGen0Budget()
            .WithBenchSwitches(builder.Configuration, instance)
            .WithFederationPeers(builder);

    /// <summary>Backend settings given to the AppHost (<c>Dive:RateLimits:*</c>, <c>Dive:FederatedSearch:*</c>, <c>Dive:Revocation:*</c>,
    /// <c>Dive:ForwardedHeaders:*</c>, or
    /// <c>Dive:Backends:&lt;code&gt;:...</c> for one backend) are passed on as <c>Dive__...</c> environment variables.</summary>
    private static IResourceBuilder<T> WithForwardedBackendSettings<T>(this IResourceBuilder<T> backend, IConfiguration config, InstanceDefinition instance)
        where T : IResourceWithEnvironment
    {
        foreach (var section in new[] { "RateLimits", "FederatedSearch", "Revocation", "ForwardedHeaders" })
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
    private static IResourceBuilder<T> WithFederationPeers<T>(this IResourceBuilder<T> backend, IDistributedApplicationBuilder builder)
        where T : class, IResourceWithEnvironment, IResourceWithServiceDiscovery
    {
        var peers = builder.Resources.OfType<IResourceWithServiceDiscovery>()
            .Where(p => p.Name.StartsWith("backend-", StringComparison.Ordinal) && !ReferenceEquals(p, backend.Resource))
            .ToList();
        foreach (var peer in peers)
        {
            backend.WithReference(builder.CreateResourceBuilder(peer));
            builder.CreateResourceBuilder((IResourceWithEnvironment)peer).WithReference(backend);
        }
        return backend;
    }
}
