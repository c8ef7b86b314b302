using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using DiveAspire.Topology;

namespace DiveAspire.AppHost.Monitoring;

/// <summary>A Redis as the exporter reaches it (<c>redis://host:port</c>), with the labels it gets in Prometheus.</summary>
public sealed record RedisScrapeTarget(string Address, string Instance, string RedisType);

/// <summary>The labels of one scraped Redis or Sentinel: <c>instance</c> and <c>redis_type</c>.</summary>
public sealed record RedisScrapeLabels(string Instance, string RedisType);

/// <summary>A backend's <c>/metrics</c> as Prometheus reaches it.</summary>
public sealed record BackendScrapeTarget(string HostAndPort, string Instance, string Role, string Scheme = "http");

/// <summary>
/// The monitored part of the resource graph. Addresses are resolved only when a monitoring resource starts, so they
/// are the ports actually allocated (fixed ports in a normal run, random ones in tests), seen from the network the
/// monitoring runs in: the host in the process runtime, the Aspire container network in the container runtime.
/// </summary>
public sealed class MonitoringTargets
{
    private readonly List<(RedisScrapeLabels Labels, EndpointReference Endpoint, ParameterResource Password)> _redis = [];
    private readonly List<(RedisScrapeLabels Labels, EndpointReference Endpoint, ParameterResource Password)> _sentinels = [];
    private readonly List<(InstanceDefinition Instance, EndpointReference Endpoint)> _backends = [];
    private readonly NetworkIdentifier? _network;
    private readonly string _hubLabel;

    public MonitoringTargets(IDistributedApplicationBuilder builder, DiveTopology topology, DiveRuntime runtime)
    {
        _network = runtime == DiveRuntime.Container ? KnownNetworkIdentifiers.DefaultAspireContainerNetwork : null;
        _hubLabel = RedisStoreSpec.ForInstance(topology.Hub).Label;
        foreach (var spec in topology.LocalRedisStores)
        {
            _redis.Add(Scraped(builder, spec.ResourceName, new(spec.Label, spec.TypeLabel), spec));
        }
        // With HA every replica and every Sentinel is scraped too, with the exporter user they all have (RedisAcl.SentinelUsers).
        if (topology.BlacklistHa is { } ha)
        {
            foreach (var replica in ha.InitialReplicas)
            {
                _redis.Add(Scraped(builder, replica.ResourceName, new(HaInstanceLabel(replica.ResourceName), replica.TypeLabel), replica));
            }
            foreach (var sentinel in ha.Sentinels)
            {
                _sentinels.Add(Scraped(builder, sentinel.ResourceName, new(HaInstanceLabel(sentinel.ResourceName), SentinelType), topology.Blacklist));
            }
        }
        foreach (var instance in topology.LocalInstances)
        {
            var backend = Find<IResourceWithEndpoints>(builder, instance.BackendResourceName);
            _backends.Add((instance, new EndpointReference(backend, "http", _network)));
        }
        RemoteBackends = RemoteBackendTargets(builder.Configuration, topology);
    }

    /// <summary>
    /// The remote spokes' backends (<c>--remote-spokes</c>) at their <c>Dive:Peers:&lt;code&gt;</c> URL (host:port); a
    /// remote spoke without one has no address to scrape and is left out (JoinBuilderExtensions checks the URLs).
    /// </summary>
    public IReadOnlyList<BackendScrapeTarget> RemoteBackends { get; }

    public static IReadOnlyList<BackendScrapeTarget> RemoteBackendTargets(Microsoft.Extensions.Configuration.IConfiguration configuration, DiveTopology topology) =>
    [
        .. topology.RemoteSpokes
            .Select(i => (Instance: i, Url: Uri.TryCreate(configuration[$"Dive:Peers:{i.LowerCode}"], UriKind.Absolute, out var url) ? url : null))
            .Where(p => p.Url is { Scheme: "http" or "https" })
            .Select(p => new BackendScrapeTarget(p.Url!.Authority, p.Instance.Code, p.Instance.RoleName, p.Url.Scheme)),
    ];

    /// <summary>The <c>redis_type</c> of a Sentinel's series (job <see cref="MonitoringNames.SentinelJob"/>).</summary>
    public const string SentinelType = "sentinel";

    /// <summary>The <c>instance</c> label of an HA node: its resource name without "redis-" (blacklist-replica-1, blacklist-sentinel-2).</summary>
    public static string HaInstanceLabel(string resourceName) =>
        resourceName.StartsWith("redis-", StringComparison.Ordinal) ? resourceName["redis-".Length..] : resourceName;

    public EndpointReference Reach(IResourceWithEndpoints resource, string endpointName) => new(resource, endpointName, _network);

    /// <summary>Each backend's <c>/metrics</c> endpoint as the monitoring reaches it, by instance code.</summary>
    public IEnumerable<(string Code, EndpointReference Endpoint)> BackendEndpoints => _backends.Select(b => (b.Instance.Code, b.Endpoint));

    public Task<IReadOnlyList<RedisScrapeTarget>> RedisAsync(CancellationToken ct) => ScrapeTargetsAsync(_redis, ct);

    /// <summary>
    /// Scraped Redis servers and Sentinels that are host processes, not containers: in the container runtime the HA
    /// store's nodes (<see cref="HaContainerLaunch"/>), which the exporter container reaches at the container host's address.
    /// </summary>
    public IEnumerable<(string Name, EndpointReference Endpoint)> HostRedisEndpoints =>
        _redis.Concat(_sentinels).Where(r => !r.Endpoint.Resource.IsContainer()).Select(r => (r.Endpoint.Resource.Name, r.Endpoint));

    /// <summary>The Sentinels of the HA revocation store (none without HA), scraped through the same exporter.</summary>
    public Task<IReadOnlyList<RedisScrapeTarget>> SentinelsAsync(CancellationToken ct) => ScrapeTargetsAsync(_sentinels, ct);

    private static async Task<IReadOnlyList<RedisScrapeTarget>> ScrapeTargetsAsync(
        IEnumerable<(RedisScrapeLabels Labels, EndpointReference Endpoint, ParameterResource Password)> scraped, CancellationToken ct)
    {
        var targets = new List<RedisScrapeTarget>();
        foreach (var (labels, endpoint, _) in scraped)
        {
            targets.Add(new(await AddressAsync(endpoint, ct).ConfigureAwait(false), labels.Instance, labels.RedisType));
        }
        return targets;
    }

    private (RedisScrapeLabels, EndpointReference, ParameterResource) Scraped(IDistributedApplicationBuilder builder, string resourceName, RedisScrapeLabels labels, RedisStoreSpec users)
    {
        var resource = Find<IResourceWithEndpoints>(builder, resourceName);
        var password = Find<ParameterResource>(builder, RedisAcl.Exporter(users).PasswordParameterName);
        return (labels, new EndpointReference(resource, LocalRedisResource.PrimaryEndpointName, _network), password);
    }

    /// <summary>
    /// The exporter's <c>-redis.addr</c>: the hub's Redis, so the exporter's own <c>/metrics</c> shows <c>redis_up</c>
    /// as in the original plan. Its password comes from the same password file, keyed by this exact address.
    /// </summary>
    public ReferenceExpression HubRedisAddress
    {
        get
        {
            var endpoint = _redis.Single(r => r.Labels.Instance == _hubLabel).Endpoint;
            return ReferenceExpression.Create($"redis://{endpoint.Property(EndpointProperty.HostAndPort)}");
        }
    }

    public async Task<IReadOnlyList<BackendScrapeTarget>> BackendsAsync(CancellationToken ct)
    {
        var targets = new List<BackendScrapeTarget>();
        foreach (var (instance, endpoint) in _backends)
        {
            targets.Add(new(await HostAndPortAsync(endpoint, ct).ConfigureAwait(false), instance.Code, instance.RoleName));
        }
        return targets;
    }

    /// <summary>
    /// The exporter's <c>-redis.password-file</c>: one JSON map for all Redis servers, keyed exactly like the
    /// scrape targets, because a single <c>-redis.password</c> would apply to every target. Each is the password of
    /// that Redis's <c>exporter</c> user (<see cref="ExporterArguments"/>), which cannot read a key.
    /// </summary>
    public async Task<string> ExporterPasswordFileAsync(CancellationToken ct)
    {
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (_, endpoint, password) in _redis.Concat(_sentinels))
        {
            map[await AddressAsync(endpoint, ct).ConfigureAwait(false)] =
                await password.GetValueAsync(ct).ConfigureAwait(false)
                ?? throw new TopologyException($"The secret parameter {password.Name} has no value.");
        }
        return JsonSerializer.Serialize(map);
    }

    /// <summary>
    /// The exporter logs in as the <c>exporter</c> ACL user of every Redis, and never asks CONFIG (refused to that user:
    /// CONFIG GET * would show settings, later replication secrets); the metrics we use come from INFO.
    /// </summary>
    public static IReadOnlyList<string> ExporterArguments { get; } = [$"-redis.user={RedisAcl.ExporterUser}", "-config-command=-"];

    /// <summary>
    /// The CA certificate the exporter validates TLS targets with (<c>-tls-ca-cert-file</c>): the shared store's when it
    /// speaks TLS (listening beyond loopback), else null.
    /// </summary>
    public string? TlsCaCertificate => _redis.Concat(_sentinels).Select(r => r.Endpoint.Resource.TlsCaCertificate()).FirstOrDefault(ca => ca is not null);

    /// <summary><c>redis://host:port</c>, or <c>rediss://</c> for a Redis that speaks TLS only.</summary>
    private static async Task<string> AddressAsync(EndpointReference endpoint, CancellationToken ct) =>
        $"{(endpoint.Resource.TlsCaCertificate() is null ? "redis" : "rediss")}://{await HostAndPortAsync(endpoint, ct).ConfigureAwait(false)}";

    public static async Task<string> HostAndPortAsync(EndpointReference endpoint, CancellationToken ct) =>
        await endpoint.Property(EndpointProperty.HostAndPort).GetValueAsync(ct).ConfigureAwait(false)
        ?? throw new InvalidOperationException($"{endpoint.Resource.Name}/{endpoint.EndpointName} has no address.");

    private static T Find<T>(IDistributedApplicationBuilder builder, string name) where T : IResource =>
        builder.Resources.OfType<T>().SingleOrDefault(r => r.Name == name)
        ?? throw new InvalidOperationException($"AddDiveMonitoring must run after the resource '{name}' was added.");
}
