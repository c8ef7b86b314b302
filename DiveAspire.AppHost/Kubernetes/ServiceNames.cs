using DiveAspire.Topology;

namespace DiveAspire.AppHost.Kubernetes;

/// <summary>
/// Where each resource of the graph lives in Kubernetes. Every nation has its own namespace (dive-&lt;code&gt;) in which its
/// resources drop the code from their name (backend-rou is the Service backend in dive-rou, as in the original's
/// k8s/base/redis); federation-wide resources (the shared store, monitoring) live in the hub's namespace under their own name.
/// </summary>
public sealed class ServiceNames(DistributedApplicationModel model, DiveTopology topology)
{
    private static readonly string[] MonitoringResources =
        [MonitoringNames.RedisExporter, MonitoringNames.Prometheus, MonitoringNames.Alertmanager, MonitoringNames.Grafana];

    public DiveTopology Topology => topology;

    public WorkloadKind? KindOf(IResource resource) => resource switch
    {
        ProjectResource when resource.Name.StartsWith("backend-", StringComparison.Ordinal) => WorkloadKind.Backend,
        KeycloakResource => WorkloadKind.Keycloak,
        ContainerResource when resource.Annotations.OfType<RedisUsersAnnotation>().Any() => WorkloadKind.Redis,
        ContainerResource when MonitoringResources.Contains(resource.Name) => WorkloadKind.Monitoring,
        ContainerResource => throw new TopologyException($"The graph has a container '{resource.Name}' the Kubernetes publisher does not know: add it to ServiceNames."),
        _ => null,
    };

    /// <summary>The instance whose namespace holds the resource: the one whose code ends its name, else the hub.</summary>
    public InstanceDefinition OwnerOf(IResource resource) => OwnerOf(resource.Name);

    public InstanceDefinition OwnerOf(string resourceName) =>
        topology.Instances.FirstOrDefault(i => resourceName.EndsWith($"-{i.LowerCode}", StringComparison.Ordinal)) ?? topology.Hub;

    public string ServiceOf(IResource resource) => ServiceOf(resource.Name);

    public string ServiceOf(string resourceName) =>
        topology.Instances.FirstOrDefault(i => resourceName.EndsWith($"-{i.LowerCode}", StringComparison.Ordinal)) is { } owner
            ? resourceName[..^(owner.LowerCode.Length + 1)]
            : resourceName;

    /// <summary>A named volume becomes a PersistentVolumeClaim named after the Service: &lt;service&gt;-data.</summary>
    public string VolumeName(IResource resource, string source) => $"{ServiceOf(resource)}-data";

    /// <summary>Whom a resource talks to: what its environment and arguments reference, and its Reference relationships.</summary>
    public IReadOnlySet<string> ConnectionsOf(IResource resource, IEnumerable<IResource> referenced)
    {
        var names = referenced.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var relation in resource.Annotations.OfType<ResourceRelationshipAnnotation>().Where(r => r.Type == "Reference"))
        {
            names.Add(relation.Resource.Name);
        }
        // The exporter scrapes every Redis through its password file (a callback the model cannot look into).
        if (resource.Name == MonitoringNames.RedisExporter)
        {
            names.UnionWith(model.Resources.Where(r => r.Annotations.OfType<RedisUsersAnnotation>().Any()).Select(r => r.Name));
        }
        names.Remove(resource.Name);
        return names.Where(n => model.Resources.Any(r => r.Name == n && KindOf(r) is not null)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The variable (and federation ConfigMap key) that holds the address of a Service in another nation's namespace.</summary>
    public static string RemoteHostVariable(string resourceName) => $"DIVE_HOST_{resourceName.ToUpperInvariant().Replace('-', '_')}";

    /// <summary>The in-cluster DNS name of a resource's Service: the default of <see cref="RemoteHostVariable"/> (one cluster).</summary>
    public string ClusterHost(string resourceName) => $"{ServiceOf(resourceName)}.{PublishSettings.Namespace(OwnerOf(resourceName))}.svc.cluster.local";
}
