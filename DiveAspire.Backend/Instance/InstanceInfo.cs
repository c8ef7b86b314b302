using DiveAspire.Topology;

namespace DiveAspire.Backend.Instance;

/// <summary>
/// Who this backend is: set by the AppHost through <c>Dive__InstanceCode</c>, <c>Dive__Role</c>, <c>Dive__Federation</c>
/// (every instance, hub first) and <c>Dive__Hub</c>.
/// </summary>
public sealed record InstanceInfo(string Code, string Role, IReadOnlyList<string> Federation, string Runtime, string Hub)
{
    /// <summary>Token issuers this backend trusts: every instance of the federation.</summary>
    public IReadOnlyList<string> Issuers => Federation.Select(code => DiveAspire.Topology.Federation.Issuer(NatoCatalog.Get(code))).ToList();

    public static InstanceInfo From(IConfiguration config)
    {
        var section = config.GetSection("Dive");
        var code = (section["InstanceCode"] ?? "USA").Trim().ToUpperInvariant();
        var federation = (section["Federation"] ?? code)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(c => c.ToUpperInvariant())
            .ToList();
        var hub = section["Hub"] is { Length: > 0 } h ? h.Trim().ToUpperInvariant() : federation[0];
        return new InstanceInfo(code, (section["Role"] ?? "hub").ToLowerInvariant(), federation, section["Runtime"] ?? "process", hub);
    }
}
