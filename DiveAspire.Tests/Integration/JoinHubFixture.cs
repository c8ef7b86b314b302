using Aspire.Hosting;
using System.Net;
using System.Net.Sockets;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// Two AppHosts on this machine (issue 15 item 4): a hub AppHost running the hub alone, which allows the remote spoke ROU
/// (<c>--remote-spokes rou</c>) and listens beyond loopback (<c>Dive:Redis:BindAddress</c>, <c>Dive:Backend:BindAddress</c>
/// 0.0.0.0), and a spoke AppHost running ROU alone that joins it (<c>--join</c>) at this machine's own network address,
/// with the hub's secrets only (no secret generated on the spoke's side). Both are always stopped, spoke first.
/// </summary>
public sealed class JoinHubFixture : IAsyncLifetime
{
    public HubAppHost Hub { get; } = new();
    public JoinedSpokeAppHost Spoke { get; private set; } = null!;

    /// <summary>The address the spoke reaches the hub at: this machine's primary address (not loopback) where it has one.</summary>
    public static string HubHost { get; } = PrimaryAddress() ?? "127.0.0.1";

    public int SharedStorePort { get; private set; }

    public async Task InitializeAsync()
    {
        await Hub.InitializeAsync();
        try
        {
            SharedStorePort = (await Hub.RedisEndpointAsync("redis-blacklist")).Port;
            var hubPort = Hub.Backend("usa").BaseAddress!.Port;
            // Plain http between the two AppHosts of one machine: said explicitly, as an operator with a VPN would.
            Spoke = new JoinedSpokeAppHost(Hub.Secrets, [$"Dive:Join:Hub=http://{HubHost}:{hubPort}", $"Dive:Join:SharedStore={HubHost}:{SharedStorePort}",
                $"{JoinBuilderExtensions.ShareDevelopmentKeySetting}=true", $"{JoinBuilderExtensions.AllowPlaintextRelaySetting}=true"]);
            await Spoke.InitializeAsync();
        }
        catch
        {
            await Hub.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (Spoke is not null)
            {
                await Spoke.DisposeAsync();
            }
        }
        finally
        {
            await Hub.DisposeAsync();
        }
    }

    private static string? PrimaryAddress()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(IPAddress.Parse("203.0.113.1"), 9); // TEST-NET-3: nothing is sent
            return (socket.LocalEndPoint as IPEndPoint)?.Address is { } local && !IPAddress.IsLoopback(local) ? local.ToString() : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}

/// <summary>The hub alone, accepting the remote spoke ROU, its shared store and backend listening on every interface.</summary>
public sealed class HubAppHost : FederationFixture
{
    public override string Spokes => "none";

    public const int RealmRevocationMax = 10;

    /// <summary>BEL's read-only user: allowed, never joined.</summary>
    public static RedisUser UnjoinedSpokeUser => RedisAcl.RemoteSpokeBackend(RedisStoreSpec.Blacklist, DiveTopology.Load(AppHostArgs.InstancesDirectory, "bel").Spokes[0]);
    public static readonly TimeSpan RealmRevocationWindow = TimeSpan.FromMinutes(1);

    /// <summary>ROU's read-only user on the shared store, which the hub creates although it does not run ROU.</summary>
    public static RedisUser RemoteSpokeUser => RedisAcl.RemoteSpokeBackend(RedisStoreSpec.Blacklist, DiveTopology.Load(AppHostArgs.InstancesDirectory, "rou").Spokes[0]);

    protected override IEnumerable<string> ExtraArgs =>
    [
        // BEL is allowed too but never joins: the realm-budget test floods with its tokens only, so no other test waits.
        "Dive:RemoteSpokes=rou,bel", "Dive:Redis:BindAddress=0.0.0.0", "Dive:Backend:BindAddress=0.0.0.0",
        // One operator runs both AppHosts here: the development signing key may be shared (JoinBuilderExtensions).
        $"{JoinBuilderExtensions.ShareDevelopmentKeySetting}=true",
        // A small, short realm-wide revocation window, so that its test can exhaust it without holding up the others.
        $"Dive:RateLimits:revocation:RealmMax={RealmRevocationMax}", $"Dive:RateLimits:revocation:RealmWindow={(int)RealmRevocationWindow.TotalSeconds}",
        // Its password as the hub's operator has it (the test's secrets, never the developer's user secrets).
        $"Parameters:{RemoteSpokeUser.PasswordParameterName}={Secrets.For(RemoteSpokeUser)}",
        $"Parameters:{UnjoinedSpokeUser.PasswordParameterName}={Secrets.For(UnjoinedSpokeUser)}",
    ];
}

/// <summary>ROU alone, joining the hub: no hub, no shared store of its own.</summary>
public sealed class JoinedSpokeAppHost : FederationFixture
{
    private readonly IReadOnlyList<string> _join;

    public JoinedSpokeAppHost(TestSecrets hubSecrets, IReadOnlyList<string> join)
    {
        Secrets = hubSecrets;
        _join = join;
    }

    public override string Spokes => "rou";
    // The read-only store password as the hub's operator handed it over.
    protected override IEnumerable<string> ExtraArgs =>
        [.. _join, $"Parameters:{HubAppHost.RemoteSpokeUser.PasswordParameterName}={Secrets.For(HubAppHost.RemoteSpokeUser)}"];
    public override IEnumerable<string> RedisNames => ["redis-rou"];
    public override IEnumerable<string> BackendNames => ["backend-rou"];
}
