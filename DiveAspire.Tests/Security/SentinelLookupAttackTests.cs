using System.Net;
using System.Net.Sockets;
using DiveAspire.Cli.AppState;
using DiveAspire.Cli.Connections;
using DiveAspire.Tests.Cli;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Security;

/// <summary>
/// The CLI asks the Sentinels which node is the shared store's primary. Without HA nothing of ours listens on the
/// Sentinel ports: any local account that does must not receive the store's operator or admin password.
/// </summary>
[Trait("Category", "Security")]
public sealed class SentinelLookupAttackTests : IDisposable
{
    private readonly string _dataPath = Directory.CreateTempSubdirectory("dive-sentinel-lookup-").FullName;

    [Fact]
    public void Without_HA_the_cli_sends_no_password_to_a_listener_on_the_sentinel_port()
    {
        var spec = RedisStoreSpec.Blacklist;
        var sentinelPort = BlacklistHighAvailability.Default.Sentinels[0].HostPort;
        // The attacker: a plain listener on the first planned Sentinel port (free unless an HA app runs on the plan).
        var attacker = new TcpListener(IPAddress.Loopback, sentinelPort);
        attacker.Start();
        try
        {
            using var env = new EnvironmentScope()
                .Set(SentinelPrimaryResolver.SentinelsVariable, null)
                .Set(SentinelResolver.HighAvailabilityVariable, null)
                .Set(SentinelResolver.NodesVariable, null)
                .Set(AppHostState.DataPathVariable, _dataPath) // no running app, so no HA
                .Set(ConnectionResolver.RedisEndpointVariable(spec), null)
                .Set(RedisAcl.Operator(spec).PasswordEnvironmentVariable, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)))
                .Set(RedisAcl.Admin(spec).PasswordEnvironmentVariable, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));

            var reader = ConnectionResolver.Redis(spec);
            var admin = reader.Admin!();

            Assert.Equal((ConnectionResolver.LocalHost, PortPlan.BlacklistRedis), (reader.Host, reader.Port));
            Assert.Equal(PortPlan.BlacklistRedis, admin.Port);
            Assert.False(attacker.Pending(), $"the CLI connected to the listener on {sentinelPort} (and sent it a password) although the store runs without HA");
        }
        finally
        {
            attacker.Stop();
        }
    }

    public void Dispose() => Directory.Delete(_dataPath, recursive: true);
}
