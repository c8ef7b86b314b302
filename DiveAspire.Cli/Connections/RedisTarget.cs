using System.Text.Json.Serialization;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Connections;

/// <summary>
/// Where one Redis of the federation is reached, as which ACL user and with which password. <see cref="PasswordSource"/>
/// names where the password came from, so an authentication error can say which secret to fix; the password itself is
/// never serialised or printed.
/// </summary>
public sealed record RedisTarget(RedisStoreSpec Spec, string Host, int Port, string User, [property: JsonIgnore] string? Password, string PasswordSource)
{
    public string Label => Spec.Label;
    public string Name => Spec.ResourceName;
    public string Endpoint => $"{Host}:{Port}";

    /// <summary>The same Redis as its admin user (flush, blacklist clear, the ACL check), resolved only when needed.</summary>
    [JsonIgnore]
    public Func<RedisTarget>? Admin { get; init; }

    /// <summary>The CA certificate (PEM path) when this Redis speaks TLS only (the shared store beyond loopback), else null.</summary>
    public string? TlsCaCertificate { get; init; }

    public RedisTarget AsAdmin() => User == RedisAcl.AdminUser ? this
        : Admin?.Invoke() ?? throw new CliException($"{Name}: this operation needs the '{RedisAcl.AdminUser}' user and no way to get its password was given.");

    public override string ToString() => $"{Name} ({Endpoint})";
}
