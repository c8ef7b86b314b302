using System.Security.Cryptography;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>
/// Fresh random passwords per test run for every ACL user of every Redis, passed to the AppHost as parameters, so tests
/// never touch a developer's user secrets.
/// </summary>
public sealed class TestSecrets
{
    private readonly Dictionary<string, string> _passwords = new();

    /// <summary>The admin password of a Redis (its historical parameter <c>redis-password-&lt;label&gt;</c>).</summary>
    public string For(RedisStoreSpec spec) => For(RedisAcl.Admin(spec));

    public string For(RedisUser user)
    {
        if (!_passwords.TryGetValue(user.PasswordParameterName, out var value))
        {
            value = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
            _passwords[user.PasswordParameterName] = value;
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
        topology.RedisStores.SelectMany(s => RedisAcl.Users(s, topology)).Select(u => $"Parameters:{u.PasswordParameterName}={For(u)}")
            .Concat(topology.Instances.Select(i => $"Parameters:otp-key-{i.LowerCode}={OtpKey(i)}"))
            .Append($"Parameters:{Federation.DevSigningKeyParameter}={DevSigningKey}")
            .Append($"Parameters:{Federation.FederationKeyParameter}={FederationKey}");
}
