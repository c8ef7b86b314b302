using System.Text.Json.Serialization;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Connections;

/// <summary>
/// Where one Redis of the federation is reached and with which password. <see cref="PasswordSource"/> names where the
/// password came from, so an authentication error can say which secret to fix; the password itself is never serialised
/// or printed.
/// </summary>
public sealed record RedisTarget(RedisStoreSpec Spec, string Host, int Port, [property: JsonIgnore] string? Password, string PasswordSource)
{
    public string Label => Spec.Label;
    public string Name => Spec.ResourceName;
    public string Endpoint => $"{Host}:{Port}";

    public override string ToString() => $"{Name} ({Endpoint})";
}
