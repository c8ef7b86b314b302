using DiveAspire.Topology;

namespace DiveAspire.AppHost.Kubernetes;

public enum WorkloadKind { Backend, Redis, Keycloak, Monitoring, Sentinel }

/// <summary>One port of a workload: the Service exposes <see cref="Port"/> (the port plan's), the container listens on <see cref="TargetPort"/>.</summary>
public sealed record WorkloadPort(string Name, int Port, int TargetPort);

/// <summary>An environment variable: a plain value (which may use <c>$(VAR)</c> of an earlier one) or a key of a Secret/ConfigMap.</summary>
public sealed record WorkloadEnv(string Name, string? Value, string? SecretKey = null, string? ConfigMapKey = null);

/// <summary>A persistent volume (an Aspire named volume) mounted at <see cref="Path"/>.</summary>
public sealed record WorkloadVolume(string Name, string Path);

/// <summary>
/// One resource of the AppHost's graph as Kubernetes will run it, read from the DistributedApplicationModel: where it
/// lives (its instance's namespace, or the hub's for federation-wide resources), its image, ports, arguments and
/// environment (evaluated in publish mode, secrets as references), and which other resources it connects to.
/// </summary>
public sealed record Workload(
    IResource Resource,
    string ResourceName,
    string Service,
    InstanceDefinition Owner,
    WorkloadKind Kind,
    string Image,
    IReadOnlyList<WorkloadPort> Ports,
    IReadOnlyList<string> Args,
    IReadOnlyList<WorkloadEnv> Env,
    IReadOnlyList<WorkloadVolume> Volumes,
    IReadOnlySet<string> ConnectsTo)
{
    public RedisStoreSpec? Store { get; init; }

    /// <summary>Who else connects besides what the graph's references say (HA: the other data nodes and the Sentinels).</summary>
    public IReadOnlyList<string> ExtraClients { get; init; } = [];
    public string? Entrypoint => (Resource as ContainerResource)?.Entrypoint;

    /// <summary>Host files and folders the container reads (realm import, Grafana provisioning): published as ConfigMaps.</summary>
    public IEnumerable<ContainerMountAnnotation> BindMounts =>
        Resource.Annotations.OfType<ContainerMountAnnotation>().Where(m => m.Type == ContainerMountType.BindMount && m.Source is { Length: > 0 });

    /// <summary>Folders the AppHost writes generated files into at container creation (ACL, configurations, password files).</summary>
    public IEnumerable<string> GeneratedFileDirectories =>
        Resource.Annotations.OfType<ContainerFileSystemCallbackAnnotation>().Select(a => a.DestinationPath).Distinct();
    public IReadOnlyList<RedisUser> RedisUsers { get; init; } = [];
    public bool IsShared(DiveTopology topology) => Kind is WorkloadKind.Monitoring or WorkloadKind.Sentinel || Store?.Kind == RedisKind.TokenStore;
}

public sealed record PublishedGraph(DistributedApplicationModel Model, ServiceNames Names, IReadOnlyList<Workload> Workloads)
{
    public DiveTopology Topology => Names.Topology;

    public IEnumerable<Workload> Of(InstanceDefinition instance) => Workloads.Where(w => w.Owner == instance);

    /// <summary>host:port of a workload as the hub's namespace reaches it (monitoring; the exporter's password file uses the same keys).</summary>
    public string Address(Workload workload) =>
        $"{(workload.Owner == Topology.Hub ? workload.Service : Names.ClusterHost(workload.ResourceName))}:{workload.Ports[0].Port}";

    public static async Task<PublishedGraph> ReadAsync(DistributedApplicationModel model, DiveTopology topology, PublishSettings settings, CancellationToken ct)
    {
        var names = new ServiceNames(model, topology);
        var workloads = new List<Workload>();
        foreach (var resource in model.Resources)
        {
            if (names.KindOf(resource) is not { } kind)
            {
                continue;
            }
            var values = new ValueTranslator(names, names.OwnerOf(resource));
            var args = await values.ArgsAsync(resource, ct).ConfigureAwait(false);
            var env = await values.EnvironmentAsync(resource, ct).ConfigureAwait(false);
            var users = resource.Annotations.OfType<RedisUsersAnnotation>().SingleOrDefault();
            workloads.Add(new Workload(
                resource,
                resource.Name,
                names.ServiceOf(resource),
                names.OwnerOf(resource),
                kind,
                ImageOf(resource, settings),
                PortsOf(resource),
                args,
                env,
                resource.Annotations.OfType<ContainerMountAnnotation>()
                    .Where(m => m.Type == ContainerMountType.Volume && m.Source is { Length: > 0 })
                    .Select(m => new WorkloadVolume(names.VolumeName(resource, m.Source!), m.Target)).ToList(),
                names.ConnectionsOf(resource, values.Referenced))
            {
                Store = users is null ? null : topology.RedisStores.Single(s => s.ResourceName == resource.Name),
                RedisUsers = users?.Users.Select(u => u.User).ToList() ?? [],
            });
        }
        return new PublishedGraph(model, names, workloads);
    }

    private static string ImageOf(IResource resource, PublishSettings settings) =>
        resource is ProjectResource
            ? settings.BackendImage
            : resource.TryGetLastAnnotation<ContainerImageAnnotation>(out var image)
                ? $"{(image.Registry is { Length: > 0 } r ? r + "/" : "")}{image.Image}:{image.Tag ?? "latest"}"
                : throw new TopologyException($"{resource.Name} has no container image: it cannot be published.");

    private static List<WorkloadPort> PortsOf(IResource resource) =>
        resource.Annotations.OfType<EndpointAnnotation>()
            .Select(e => new WorkloadPort(e.Name, e.Port ?? e.TargetPort ?? BackendContainerPort, e.TargetPort ?? BackendContainerPort))
            .ToList();

    /// <summary>The port a backend container listens on (ASP.NET Core's container default), behind the Service's planned port.</summary>
    public const int BackendContainerPort = 8080;
}
