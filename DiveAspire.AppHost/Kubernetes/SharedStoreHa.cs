using System.Globalization;
using DiveAspire.Topology;

namespace DiveAspire.AppHost.Kubernetes;

/// <summary>
/// The shared store as published: the HA Sentinel topology of <see cref="BlacklistHighAvailability"/> (always on in
/// manifests). The graph's <c>redis-blacklist</c> (its image, server settings, ACL users including replication and
/// sentinel) becomes three data nodes, <c>redis-blacklist</c> the initial primary and two replicas, each its own Service
/// on its planned port, plus three Sentinels; backends connect through the Sentinels
/// (<c>s1:26379,s2:26380,s3:26381,serviceName=dive-blacklist,user=...</c>). Every node announces its Service's cluster
/// name (<c>redis-blacklist.dive-usa.svc.cluster.local</c>, not the short name, which only the hub's namespace resolves:
/// a spoke's backend is told these names by the Sentinels) and planned port, so Sentinel and clients reach nodes by
/// stable names whatever the pods' addresses.
/// </summary>
public static class SharedStoreHa
{
    /// <summary>Where data nodes read replication.conf (masteruser/masterauth) and Sentinels sentinel.conf: the ACL Secret.</summary>
    public const string ReplicationConfig = "replication.conf";
    public const string SentinelSecret = "redis-blacklist-sentinel";
    public const string SentinelConfigDirectory = "/etc/dive-sentinel";
    public const string SentinelConfig = "sentinel.conf";
    public const int SentinelContainerPort = 26379;

    /// <summary>The name a node of the shared store announces: its Service in the hub's namespace, resolvable from every namespace.</summary>
    public static string Announced(DiveTopology topology, string node) => $"{node}.{PublishSettings.Namespace(topology.Hub)}.svc.cluster.local";

    public static PublishedGraph Apply(PublishedGraph graph)
    {
        var ha = graph.Topology.BlacklistHa ?? throw new TopologyException("Publishing needs the shared store's HA topology (DiveTopology.BlacklistHa).");
        var store = graph.Workloads.Single(w => w.Store?.Kind == RedisKind.TokenStore);
        var sentinels = ha.Sentinels.Select(s => s.ResourceName).ToList();
        string Announce(string node) => Announced(graph.Topology, node);
        var nodes = ha.DataNodes.Select(node => DataNode(store, ha, node, sentinels, ha.DataNodes.Select(n => n.ResourceName), Announce)).ToList();
        var sentinelWorkloads = ha.Sentinels.Select(s => Sentinel(store, s, sentinels, Announce)).ToList();
        var others = graph.Workloads.Where(w => w != store).Select(w => WithSentinels(w, graph, ha, store)).ToList();
        return graph with { Workloads = [.. nodes, .. sentinelWorkloads, .. others] };
    }

    private static Workload DataNode(Workload store, BlacklistHighAvailability ha, RedisStoreSpec node, IEnumerable<string> sentinels, IEnumerable<string> dataNodes, Func<string, string> announce)
    {
        var primary = ha.InitialPrimary;
        var command = string.Join(' ', store.Args[^1].Split(' ').Select(word => word == "redis-server"
            ? $"redis-server {DiveRedisBuilderExtensions.ContainerAclDirectory}/{ReplicationConfig}"
            : word));
        // Every setting from the topology (BlacklistHighAvailability); only the addresses are the Services' (cluster names).
        IReadOnlyList<string> settings =
        [
            .. ha.ReplicationArguments(),
            .. ha.NodeArguments(node, announce(node.ResourceName), node.HostPort.ToString(CultureInfo.InvariantCulture),
                announce(primary.ResourceName), primary.HostPort.ToString(CultureInfo.InvariantCulture)),
        ];
        return store with
        {
            ResourceName = node.ResourceName,
            Service = node.ResourceName,
            Ports = [store.Ports[0] with { Port = node.HostPort }],
            Args = [.. store.Args.Take(store.Args.Count - 1), $"{command} {string.Join(' ', settings)}"],
            Volumes = [new WorkloadVolume($"{node.ResourceName}-data", store.Volumes[0].Path)],
            Store = node,
            // Replication between data nodes and Sentinel's monitoring, besides the backends and the exporter.
            ConnectsTo = store.ConnectsTo,
            ExtraClients = [.. sentinels, .. dataNodes.Where(n => n != node.ResourceName)],
        };
    }

    private static Workload Sentinel(Workload store, SentinelNode sentinel, IEnumerable<string> sentinels, Func<string, string> announce)
    {
        var port = sentinel.HostPort.ToString(CultureInfo.InvariantCulture);
        // Sentinel rewrites its configuration: it runs from a writable copy of the Secret's file (the stand-in and the
        // official image both have a POSIX shell; the copy uses shell built-ins only).
        var script = $"while IFS= read -r line; do printf '%s\\n' \"$line\"; done < {SentinelConfigDirectory}/{SentinelConfig} > /data/{SentinelConfig}" +
            $" && exec redis-server /data/{SentinelConfig} --sentinel --port {SentinelContainerPort}" +
            $" --sentinel announce-ip {announce(sentinel.ResourceName)} --sentinel announce-port {port}";
        return store with
        {
            ResourceName = sentinel.ResourceName,
            Service = sentinel.ResourceName,
            Kind = WorkloadKind.Sentinel,
            Ports = [new WorkloadPort("tcp", sentinel.HostPort, SentinelContainerPort)],
            Args = ["-c", script],
            Env = [],
            Volumes = [],
            Store = null,
            ConnectsTo = new HashSet<string>(StringComparer.Ordinal),
            ExtraClients = [.. sentinels.Where(s => s != sentinel.ResourceName)],
        };
    }

    /// <summary>A backend's connection string to the shared store names the Sentinels and the service instead of one node.</summary>
    private static Workload WithSentinels(Workload workload, PublishedGraph graph, BlacklistHighAvailability ha, Workload store)
    {
        if (!workload.ConnectsTo.Contains(store.ResourceName))
        {
            return workload;
        }
        if (workload.Kind != WorkloadKind.Backend)
        {
            // The exporter scrapes every data node.
            return workload with { ConnectsTo = workload.ConnectsTo.Concat(ha.DataNodes.Select(n => n.ResourceName)).ToHashSet(StringComparer.Ordinal) };
        }
        var local = workload.Owner == store.Owner;
        var helpers = local ? [] : ha.Sentinels.Select(s => new WorkloadEnv(ServiceNames.RemoteHostVariable(s.ResourceName), null, ConfigMapKey: ServiceNames.RemoteHostVariable(s.ResourceName))).ToList();
        var prefix = ha.SentinelConnectionPrefix(ha.Sentinels.Select(s =>
            $"{(local ? s.ResourceName : $"$({ServiceNames.RemoteHostVariable(s.ResourceName)})")}:{s.HostPort.ToString(CultureInfo.InvariantCulture)}"));
        var oldHost = local ? store.Service : $"$({ServiceNames.RemoteHostVariable(store.ResourceName)})";
        var oldPrefix = $"{oldHost}:{store.Ports[0].Port.ToString(CultureInfo.InvariantCulture)}";
        var env = workload.Env
            .Where(e => e.Name != ServiceNames.RemoteHostVariable(store.ResourceName))
            .Select(e => e.Value is { } value && value.StartsWith(oldPrefix + ",", StringComparison.Ordinal)
                ? e with { Value = prefix + value[oldPrefix.Length..] }
                : e)
            .ToList();
        return workload with
        {
            Env = [.. helpers, .. env],
            ConnectsTo = workload.ConnectsTo.Concat(ha.ResourceNames).ToHashSet(StringComparer.Ordinal),
        };
    }

    /// <summary>replication.conf: how a replica logs in to its primary (the password, so only in the Secret).</summary>
    public static string RenderReplicationConfig(string replicationPassword) =>
        $"masteruser {RedisAcl.ReplicationUser}\nmasterauth {replicationPassword}\n";

    /// <summary>sentinel.conf: what to monitor, how to log in to data nodes and other Sentinels, and the Sentinel's own ACL users.</summary>
    public static string RenderSentinelConfig(DiveTopology topology, BlacklistHighAvailability ha, string sentinelPassword, IEnumerable<(RedisUser User, string Password)> users)
    {
        var primary = ha.InitialPrimary;
        var lines = new List<string>
        {
            "sentinel resolve-hostnames yes",
            "sentinel announce-hostnames yes",
        };
        lines.AddRange(ha.SentinelMonitorLines(Announced(topology, primary.ResourceName), primary.HostPort));
        lines.AddRange(BlacklistHighAvailability.SentinelAuthenticationLines(RedisAcl.SentinelUser, sentinelPassword));
        lines.AddRange(RedisAcl.Render(users).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        return string.Join('\n', lines) + "\n";
    }
}
