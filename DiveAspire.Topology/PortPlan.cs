namespace DiveAspire.Topology;

/// <summary>The original DIVE V3 port formulas (o = the country's offset) and the fixed monitoring ports.</summary>
public static class PortPlan
{
    public const int BlacklistRedis = 6479;
    /// <summary>The shared store's HA topology (<see cref="BlacklistHighAvailability"/>): replicas after 6479, Sentinels from 26379.</summary>
    public const int BlacklistReplica1 = 6480;
    public const int BlacklistReplica2 = 6481;
    public const int BlacklistSentinel1 = 26379;
    public const int BlacklistSentinel2 = 26380;
    public const int BlacklistSentinel3 = 26381;
    public const int RedisExporter = 9121;
    public const int Prometheus = 9090;
    public const int Alertmanager = 9093;
    public const int Grafana = 3333;

    public static int Frontend(Country c) => 3000 + c.Offset;
    public static int Backend(Country c) => 4000 + c.Offset;
    public static int KeycloakHttps(Country c) => 8443 + c.Offset;
    public static int KeycloakHttp(Country c) => 8080 + c.Offset;
    public static int Postgres(Country c) => 5432 + c.Offset;
    public static int MongoDb(Country c) => 27017 + c.Offset;
    public static int Redis(Country c) => 6379 + c.Offset;
    public static int Opa(Country c) => 8181 + c.Offset * 10;
    public static int Kas(Country c) => 9000 + c.Offset;

    /// <summary>Every formula for one instance, by service name (used by `dive ports` and collision checks).</summary>
    public static IReadOnlyList<PortAllocation> AllServices(Country c) =>
    [
        new(c.Code, "frontend", Frontend(c)),
        new(c.Code, "backend", Backend(c)),
        new(c.Code, "keycloak-https", KeycloakHttps(c)),
        new(c.Code, "keycloak-http", KeycloakHttp(c)),
        new(c.Code, "postgres", Postgres(c)),
        new(c.Code, "mongodb", MongoDb(c)),
        new(c.Code, "redis", Redis(c)),
        new(c.Code, "opa", Opa(c)),
        new(c.Code, "kas", Kas(c)),
    ];

    /// <summary>The host ports DiveAspire actually binds for a deployment.</summary>
    public static IReadOnlyList<PortAllocation> Allocate(DiveTopology topology, PortPlanOptions options)
    {
        var ports = new List<PortAllocation> { new("shared", "redis-blacklist", BlacklistRedis) };
        if (options.HighAvailability)
        {
            ports.AddRange(BlacklistHighAvailability.Default.AdditionalPorts());
        }
        foreach (var instance in topology.Instances)
        {
            var c = instance.Country;
            ports.Add(new(c.Code, "backend", Backend(c)));
            ports.Add(new(c.Code, "redis", Redis(c)));
            if (options.Keycloak)
            {
                ports.Add(new(c.Code, "keycloak-https", KeycloakHttps(c)));
                ports.Add(new(c.Code, "keycloak-http", KeycloakHttp(c)));
            }
        }
        if (options.Monitoring)
        {
            ports.Add(new("monitoring", "redis-exporter", RedisExporter));
            ports.Add(new("monitoring", "prometheus", Prometheus));
            ports.Add(new("monitoring", "alertmanager", Alertmanager));
            if (options.Grafana)
            {
                ports.Add(new("monitoring", "grafana", Grafana));
            }
        }
        return ports;
    }

    /// <summary>Every port claimed by more than one allocation, with all of its claimants.</summary>
    public static IReadOnlyList<PortCollision> FindCollisions(IEnumerable<PortAllocation> allocations) =>
        allocations
            .GroupBy(a => a.Port)
            .Where(g => g.Count() > 1)
            .Select(g => new PortCollision(g.Key, g.ToList()))
            .OrderBy(c => c.Port)
            .ToList();

    public static void EnsureNoCollisions(IEnumerable<PortAllocation> allocations)
    {
        var collisions = FindCollisions(allocations);
        if (collisions.Count > 0)
        {
            throw new TopologyException("Port plan collisions: " + string.Join("; ", collisions));
        }
    }
}

public sealed record PortAllocation(string Owner, string Service, int Port)
{
    public override string ToString() => $"{Owner}/{Service}:{Port}";
}

public sealed record PortCollision(int Port, IReadOnlyList<PortAllocation> Claimants)
{
    public override string ToString() => $"port {Port} claimed by {string.Join(", ", Claimants.Select(c => $"{c.Owner}/{c.Service}"))}";
}

/// <param name="HighAvailability">The shared store runs as primary, replicas and Sentinels (<see cref="BlacklistHighAvailability"/>).</param>
public sealed record PortPlanOptions(bool Monitoring = true, bool Grafana = false, bool Keycloak = false, bool HighAvailability = false);
