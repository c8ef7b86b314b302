namespace DiveAspire.Topology;

/// <summary>The instances that run in one deployment: the hub, the enabled spokes and the shared revocation store.</summary>
public sealed class DiveTopology
{
    public DiveTopology(InstanceDefinition hub, IReadOnlyList<InstanceDefinition> spokes)
    {
        Hub = hub;
        Spokes = spokes;
    }

    public InstanceDefinition Hub { get; }
    public IReadOnlyList<InstanceDefinition> Spokes { get; }
    public IEnumerable<InstanceDefinition> Instances => Spokes.Prepend(Hub);
    public RedisStoreSpec Blacklist => RedisStoreSpec.Blacklist;

    /// <summary>
    /// Spokes that run on other machines and join this hub (<c>Dive:RemoteSpokes</c>, <c>./dive up --remote-spokes rou</c>):
    /// the shared store has a read-only user for each (<see cref="RedisAcl.RemoteSpokeBackend"/>; their revocations go
    /// through the hub's API), and the hub's backends trust their realms.
    /// </summary>
    public IReadOnlyList<InstanceDefinition> RemoteSpokes { get; init; } = [];

    /// <summary>A spoke AppHost joining a hub that runs elsewhere (<c>./dive up --join</c>): neither the hub nor the shared store runs here.</summary>
    public bool HubIsRemote { get; init; }

    /// <summary>The instances this AppHost runs: every instance, or only the spokes when it joins a remote hub.</summary>
    public IEnumerable<InstanceDefinition> LocalInstances => HubIsRemote ? Spokes : Instances;

    /// <summary>Every instance of the federation this AppHost knows of (run here or elsewhere), hub first.</summary>
    public IEnumerable<InstanceDefinition> Federation => Instances.Concat(RemoteSpokes).OrderBy(i => i.Role == InstanceRole.Hub ? -1 : i.Country.Offset);

    /// <summary>
    /// Whether <paramref name="instance"/> is a spoke on another machine than the hub: one the hub allows from elsewhere
    /// (<see cref="RemoteSpokes"/>), or, in a spoke AppHost joining a hub (<see cref="HubIsRemote"/>), every spoke it runs.
    /// Its store user is read-only and its backend relays revocations to the hub.
    /// </summary>
    public bool IsRemoteSpoke(InstanceDefinition instance) =>
        instance.Role == InstanceRole.Spoke && (HubIsRemote || SpokesElsewhere || RemoteSpokes.Any(r => r.Code == instance.Code));

    /// <summary>
    /// Published manifests (<c>./dive publish kubernetes</c>): each nation deploys its overlay on its own cluster, so every
    /// spoke is remote to the hub (read-only store user, revocations relayed to the hub's backend).
    /// </summary>
    public bool SpokesElsewhere { get; init; }

    /// <summary>This topology with every spoke on its own cluster (<see cref="SpokesElsewhere"/>).</summary>
    public DiveTopology WithSpokesElsewhere() =>
        new(Hub, Spokes) { BlacklistHa = BlacklistHa, RemoteSpokes = RemoteSpokes, HubIsRemote = HubIsRemote, SpokesElsewhere = true };

    /// <summary>Instances whose backends share the shared store: those run here and the remote spokes.</summary>
    public IEnumerable<InstanceDefinition> SharedStoreClients => Federation;

    /// <summary>The Redis servers this AppHost runs: the shared store first, then each local instance's own.</summary>
    public IEnumerable<RedisStoreSpec> LocalRedisStores => HubIsRemote ? Spokes.Select(RedisStoreSpec.ForInstance) : RedisStores;

    /// <summary>
    /// This topology with <paramref name="remoteSpokes"/> (spoke codes, run elsewhere) allowed to join, or, with
    /// <paramref name="hubIsRemote"/>, as a spoke AppHost joining a hub that runs elsewhere.
    /// </summary>
    public DiveTopology Joined(string? remoteSpokes, bool hubIsRemote, string instancesDirectory)
    {
        if (hubIsRemote && Spokes.Count == 0)
        {
            throw new TopologyException("Joining a hub needs the spokes this machine runs (--spokes rou): the hub runs elsewhere.");
        }
        if (hubIsRemote && BlacklistHa is not null)
        {
            throw new TopologyException("--join and --ha exclude each other: the shared store (HA or not) runs on the hub; give its Sentinels with Dive:Join:Sentinels.");
        }
        var remote = string.IsNullOrWhiteSpace(remoteSpokes)
            ? []
            : Narrow(InstanceLoader.LoadAll(instancesDirectory).Where(i => i.Role == InstanceRole.Spoke).ToList(), remoteSpokes);
        if (remote.FirstOrDefault(r => Spokes.Any(s => s.Code == r.Code)) is { } both)
        {
            throw new TopologyException($"Spoke '{both.Code}' is both run here and remote (Dive:RemoteSpokes): name it in one of --spokes and --remote-spokes.");
        }
        return new DiveTopology(Hub, Spokes) { BlacklistHa = BlacklistHa, RemoteSpokes = remote, HubIsRemote = hubIsRemote };
    }

    /// <summary>The shared store's HA topology when <see cref="BlacklistHighAvailability.ConfigurationKey"/> is on, else null (one <c>redis-blacklist</c>).</summary>
    public BlacklistHighAvailability? BlacklistHa { get; init; }

    /// <summary>Every Redis server that holds the shared store: the three data nodes with HA, else <c>redis-blacklist</c> alone.</summary>
    public IReadOnlyList<RedisStoreSpec> BlacklistDataNodes => BlacklistHa?.DataNodes ?? [Blacklist];

    /// <summary>The shared store first, then each instance's own Redis.</summary>
    public IEnumerable<RedisStoreSpec> RedisStores => Instances.Select(RedisStoreSpec.ForInstance).Prepend(Blacklist);

    public InstanceDefinition Get(string code)
    {
        var country = NatoCatalog.Get(code);
        return Instances.FirstOrDefault(i => i.Code == country.Code)
            ?? throw new TopologyException(
                $"Instance '{country.Code}' is not deployed (no folder in instances/). Deployed: {string.Join(", ", Instances.Select(i => i.Code))}.");
    }

    /// <summary>Resolves an instance code or 'blacklist' to its Redis.</summary>
    public RedisStoreSpec GetRedis(string target) =>
        string.Equals(target?.Trim(), RedisStoreSpec.BlacklistLabel, StringComparison.OrdinalIgnoreCase)
            ? Blacklist
            : RedisStoreSpec.ForInstance(Get(target!));

    /// <summary>
    /// Loads instances/ and keeps only the listed spokes. <paramref name="spokeFilter"/> null runs every spoke;
    /// an empty list or "none" runs the hub alone. <paramref name="highAvailability"/> runs the shared store as
    /// <see cref="BlacklistHighAvailability"/>.
    /// </summary>
    public static DiveTopology Load(string instancesDirectory, string? spokeFilter = null, bool highAvailability = false)
    {
        var all = InstanceLoader.LoadAll(instancesDirectory);
        var hubs = all.Where(i => i.Role == InstanceRole.Hub).ToList();
        if (hubs.Count != 1)
        {
            throw new TopologyException(
                $"instances/ must contain exactly one instance with role 'hub' (found {hubs.Count}: {string.Join(", ", hubs.Select(h => h.Code))}).");
        }
        var spokes = all.Where(i => i.Role == InstanceRole.Spoke).OrderBy(i => i.Country.Offset).ToList();
        return new DiveTopology(hubs[0], Narrow(spokes, spokeFilter)) { BlacklistHa = highAvailability ? BlacklistHighAvailability.Default : null };
    }

    private static List<InstanceDefinition> Narrow(List<InstanceDefinition> spokes, string? filter)
    {
        if (filter is null)
        {
            return spokes;
        }
        var wanted = filter.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (wanted.Length == 0 || (wanted.Length == 1 && wanted[0].Equals("none", StringComparison.OrdinalIgnoreCase)))
        {
            return [];
        }
        var result = new List<InstanceDefinition>();
        foreach (var code in wanted)
        {
            var country = NatoCatalog.Get(code);
            var spoke = spokes.FirstOrDefault(s => s.Code == country.Code)
                ?? throw new TopologyException(
                    $"Spoke '{country.Code}' has no spoke folder in instances/. Available spokes: {string.Join(", ", spokes.Select(s => s.Code))}.");
            if (!result.Contains(spoke))
            {
                result.Add(spoke);
            }
        }
        return result.OrderBy(s => s.Country.Offset).ToList();
    }

    /// <summary>Walks up from <paramref name="start"/> to the folder holding DiveAspire.sln and returns its instances/.</summary>
    public static string FindInstancesDirectory(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DiveAspire.sln")) && Directory.Exists(Path.Combine(dir.FullName, "instances")))
            {
                return Path.Combine(dir.FullName, "instances");
            }
        }
        throw new TopologyException($"Could not find the DiveAspire repository (DiveAspire.sln with instances/) above '{start}'. Set Dive:InstancesPath.");
    }
}
