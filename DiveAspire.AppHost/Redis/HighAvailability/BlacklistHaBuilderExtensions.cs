using System.Globalization;
using DiveAspire.AppHost;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;

namespace Aspire.Hosting;

public static class BlacklistHaBuilderExtensions
{
    /// <summary>
    /// The shared revocation store as one primary, two replicas and three Sentinels (issue 14). Returns the initial
    /// primary <c>redis-blacklist</c>, under which the dashboard groups the other nodes; clients referencing it get a
    /// connection string through the Sentinels (<see cref="SentinelServiceAnnotation"/>).
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddDiveBlacklistHa(
        this IDistributedApplicationBuilder builder, DiveTopology topology, BlacklistHighAvailability ha, DiveRuntime runtime, DiveOptions options)
    {
        // Beyond loopback the store speaks TLS only (RedisTls); its replication and Sentinels do not yet.
        if (!BindAddress.IsLoopback(options.RedisBindAddress))
        {
            throw new TopologyException(
                $"--ha with Dive:Redis:BindAddress={options.RedisBindAddress} is refused: TLS between the store's nodes and Sentinels is not built " +
                "(tls-replication, Sentinel TLS); run the hub without --ha, or keep the store on loopback (docs/deployment.md).");
        }
        // Container runtime: the Redis image on the host's network, for one address that works from everywhere (HaContainerLaunch).
        var container = runtime == DiveRuntime.Container
            ? new HaContainerLaunch(builder.Configuration["ASPIRE_CONTAINER_RUNTIME"] is { Length: > 0 } name ? name : "docker", options.VolumePrefix, builder.Configuration)
            : null;
        // One secret parameter per user, shared by every node and Sentinel: one credential reaches them all.
        var users = builder.AddRedisUserPasswords(topology.Blacklist, topology);
        var sentinelUsers = new RedisUsersAnnotation([.. RedisAcl.SentinelUsers(topology).Select(u => new RedisUserPassword(u, users[u.Name].Password))]);

        var nodes = new List<IResourceBuilder<LocalRedisResource>>();
        var replications = new List<DataNodeReplication>();
        foreach (var spec in ha.DataNodes)
        {
            var replication = new DataNodeReplication(ha, users, nodes.Count == 0 ? null : nodes[0].Resource.PrimaryEndpoint);
            replications.Add(replication);
            nodes.Add(builder.AddLocalRedis(spec, users, options, replication, container));
        }
        var primary = nodes[0];
        var sentinels = ha.Sentinels.Select(s => builder.AddLocalSentinel(s, ha, sentinelUsers, [.. nodes.Select(n => n.Resource)], replications[0], options, container)).ToList();
        foreach (var replication in replications)
        {
            replication.Sentinels = [.. sentinels.Select(s => s.Resource.PrimaryEndpoint)];
        }

        foreach (var (node, spec) in nodes.Zip(ha.DataNodes))
        {
            node.WithRedisOperations(spec);
            if (node != primary)
            {
                node.WithParentRelationship(primary);
            }
        }
        foreach (var sentinel in sentinels)
        {
            sentinel.WithParentRelationship(primary).WithSentinelCommands(primary.Resource);
        }
        primary.WithAnnotation(new SentinelServiceAnnotation([.. sentinels.Select(s => (IResourceWithEndpoints)s.Resource)]));
        return primary;
    }

    private static IResourceBuilder<LocalSentinelResource> AddLocalSentinel(
        this IDistributedApplicationBuilder builder, SentinelNode node, BlacklistHighAvailability ha, RedisUsersAnnotation users,
        IReadOnlyList<LocalRedisResource> dataNodes, DataNodeReplication lookup, DiveOptions options, HaContainerLaunch? container)
    {
        var dataDirectory = Path.Combine(options.DataPath, node.ResourceName);
        DiveRedisBuilderExtensions.CreateDataDirectory(dataDirectory);
        var sentinel = new LocalSentinelResource(node.ResourceName, container?.Command ?? options.RedisSentinelPath, dataDirectory);
        sentinel.Annotations.Add(users);

        var healthCheckKey = $"{node.ResourceName}_check";
        builder.Services.AddKeyedSingleton(healthCheckKey, (_, _) => new SentinelHealthCheck(sentinel, ha));
        builder.Services.AddHealthChecks().Add(new(healthCheckKey, sp => sp.GetRequiredKeyedService<SentinelHealthCheck>(healthCheckKey), failureStatus: null, tags: null));

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(sentinel, async (e, ct) =>
        {
            // A Sentinel left running by a crashed AppHost would go on monitoring (and failing over) with stale settings.
            var logger = e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(sentinel);
            if (container is null)
            {
                await LeftoverRedis.StopAsync(dataDirectory, logger, ct).ConfigureAwait(false);
            }
            else
            {
                await container.RemoveLeftoverAsync(sentinel.Name, logger, ct).ConfigureAwait(false);
            }
            var port = await DataNodeReplication.PortAsync(sentinel.PrimaryEndpoint, ct).ConfigureAwait(false);
            // After a failover a restarted Sentinel monitors the current primary; the others tell it the rest.
            var primaryPort = await lookup.CurrentPrimaryPortAsync(ct).ConfigureAwait(false)
                ?? await DataNodeReplication.PortAsync(dataNodes[0].PrimaryEndpoint, ct).ConfigureAwait(false);
            var peerPassword = await users[RedisAcl.SentinelUser].Password.GetValueAsync(ct).ConfigureAwait(false);
            var config = new System.Text.StringBuilder()
                .AppendLine("# Written by the DiveAspire AppHost at each start; Sentinel rewrites it as it learns. Do not commit.")
                .AppendLine(CultureInfo.InvariantCulture, $"dir {DataNodeReplication.Quote(dataDirectory)}")
                .AppendLine(CultureInfo.InvariantCulture, $"sentinel announce-ip {DataNodeReplication.Host}")
                .AppendLine(CultureInfo.InvariantCulture, $"sentinel announce-port {port}")
                .Append(await users.RenderAclFileAsync(ct).ConfigureAwait(false));
            // auth-user/auth-pass name the monitored master: after its "sentinel monitor" line (shared with the publisher).
            var monitor = ha.SentinelMonitorLines(DataNodeReplication.Host, primaryPort);
            config.AppendLine(monitor[0]);
            var dataNodePorts = new List<int>();
            foreach (var dataNode in dataNodes)
            {
                dataNodePorts.Add(await DataNodeReplication.PortAsync(dataNode.PrimaryEndpoint, ct).ConfigureAwait(false));
            }
            var sentinelPorts = new Dictionary<string, int>();
            foreach (var peer in lookup.Sentinels)
            {
                sentinelPorts[peer.Resource.Name] = await DataNodeReplication.PortAsync(peer, ct).ConfigureAwait(false);
            }
            foreach (var line in BlacklistHighAvailability.SentinelAuthenticationLines(RedisAcl.SentinelUser, DataNodeReplication.Quote(peerPassword!))
                .Concat(monitor.Skip(1))
                .Concat(ha.SentinelDiscoveryLines(node, DataNodeReplication.Host, primaryPort, dataNodePorts, sentinelPorts)))
            {
                config.AppendLine(line);
            }
            await DiveAspire.AppHost.PrivateFile.WriteAsync(sentinel.ConfigPath, config.ToString(), ct).ConfigureAwait(false);
        });

        return builder.AddResource(sentinel)
            // Like the data nodes: the Sentinel binds its planned port itself, no orchestrator proxy in front.
            .WithEndpoint(port: node.HostPort, name: LocalSentinelResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithFreePortWhenRandomized(builder, proxied: false)
            .WithArgs(context =>
            {
                // In a container: the image's redis-server in Sentinel mode (the same binary as redis-sentinel).
                foreach (var arg in container?.RunArguments(sentinel.Name, dataDirectory, volume: null) ?? [])
                {
                    context.Args.Add(arg);
                }
                context.Args.Add(sentinel.ConfigPath);
                if (container is not null)
                {
                    context.Args.Add("--sentinel");
                }
                context.Args.Add("--port");
                context.Args.Add(sentinel.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--bind");
                foreach (var address in container?.BindAddresses() ?? [DataNodeReplication.Host])
                {
                    context.Args.Add(address);
                }
            })
            .WithHealthCheck(healthCheckKey);
    }
}
