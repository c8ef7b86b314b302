using System.Security.Cryptography;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>Fresh random Redis passwords per test run, passed to the AppHost as parameters, so tests never touch a developer's user secrets.</summary>
public sealed class TestSecrets
{
    private readonly Dictionary<string, string> _passwords = new();

    public string For(RedisStoreSpec spec)
    {
        if (!_passwords.TryGetValue(spec.PasswordParameterName, out var value))
        {
            value = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
            _passwords[spec.PasswordParameterName] = value;
        }
        return value;
    }

    public string DevSigningKey { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    /// <summary>The per-instance key of pending OTP secrets (parameter otp-key-&lt;code&gt;).</summary>
    public string OtpKey(InstanceDefinition instance)
    {
        var name = $"otp-key-{instance.LowerCode}";
        if (!_passwords.TryGetValue(name, out var value))
        {
            value = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
            _passwords[name] = value;
        }
        return value;
    }

    public string FederationKey { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    public IEnumerable<string> AllValues => _passwords.Values.Append(DevSigningKey).Append(FederationKey);

    public IEnumerable<string> AsArguments(DiveTopology topology) =>
        topology.RedisStores.Select(s => $"Parameters:{s.PasswordParameterName}={For(s)}")
            .Concat(topology.Instances.Select(i => $"Parameters:otp-key-{i.LowerCode}={OtpKey(i)}"))
            .Append($"Parameters:{Federation.DevSigningKeyParameter}={DevSigningKey}")
            .Append($"Parameters:{Federation.FederationKeyParameter}={FederationKey}");
}
