namespace DiveAspire.Topology;

public enum InstanceRole { Hub, Spoke }

/// <summary>One deployed instance, as read from <c>instances/&lt;code&gt;/instance.json</c>.</summary>
public sealed record InstanceDefinition(Country Country, InstanceRole Role, RedisOverrides Redis, string Directory)
{
    public string Code => Country.Code;
    public string LowerCode => Country.LowerCode;
    public string RoleName => Role == InstanceRole.Hub ? "hub" : "spoke";
    public string BackendResourceName => $"backend-{LowerCode}";
    public string RedisResourceName => $"redis-{LowerCode}";
}

/// <summary>Optional per-instance Redis settings from instance.json; null means the role's default.</summary>
public sealed record RedisOverrides(string? MaxMemory = null, string? MaxMemoryPolicy = null)
{
    public static RedisOverrides None { get; } = new();
}
