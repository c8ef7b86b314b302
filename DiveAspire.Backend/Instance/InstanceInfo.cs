using DiveAspire.Topology;

namespace DiveAspire.Backend.Instance;

/// <summary>
/// Who this backend is: set by the AppHost through <c>Dive__InstanceCode</c>, <c>Dive__Role</c>, <c>Dive__Federation</c>
/// (every instance, hub first) and <c>Dive__Hub</c>.
/// </summary>
public sealed record InstanceInfo(string Code, string Role, IReadOnlyList<string> Federation, string Runtime, string Hub)
{
    /// <summary>Issuers set by <c>Dive:Auth:Realms:&lt;code&gt;:Issuer</c> (a deployment's public realm URLs), by upper-case code.</summary>
    public IReadOnlyDictionary<string, string> ConfiguredIssuers { get; init; } = new Dictionary<string, string>();

    /// <summary>Token issuers this backend trusts: every instance of the federation.</summary>
    public IReadOnlyList<string> Issuers => Federation.Select(IssuerOf).ToList();

    /// <summary>The issuer of a realm's tokens: configured, else the local default (<see cref="DiveAspire.Topology.Federation.Issuer"/>).</summary>
    public string IssuerOf(string code) => DiveAspire.Topology.Federation.Issuer(NatoCatalog.Get(code), ConfiguredIssuers.GetValueOrDefault(code.ToUpperInvariant()));

    public static InstanceInfo From(IConfiguration config)
    {
        var section = config.GetSection("Dive");
        var code = (section["InstanceCode"] ?? "USA").Trim().ToUpperInvariant();
        var federation = (section["Federation"] ?? code)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(c => c.ToUpperInvariant())
            .ToList();
        var hub = section["Hub"] is { Length: > 0 } h ? h.Trim().ToUpperInvariant() : federation[0];
        var issuers = section.GetSection("Auth:Realms").GetChildren()
            .Where(realm => realm["Issuer"] is { Length: > 0 })
            .ToDictionary(realm => realm.Key.ToUpperInvariant(), realm => realm["Issuer"]!);
        return new InstanceInfo(code, (section["Role"] ?? "hub").ToLowerInvariant(), federation, section["Runtime"] ?? "process", hub)
        {
            ConfiguredIssuers = issuers,
        };
    }
}
