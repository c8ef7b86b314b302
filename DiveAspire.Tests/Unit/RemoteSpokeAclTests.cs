using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Unit;

/// <summary>
/// Red-team finding H1: a spoke on another machine than the hub gets a read-only user on the shared store
/// (<c>backend-&lt;code&gt;-ro</c>); a spoke the hub runs keeps the local backend's user.
/// </summary>
public sealed class RemoteSpokeAclTests
{
    private static DiveTopology Hub(bool ha = false) =>
        DiveTopology.Load(AppHostArgs.InstancesDirectory, "bel", ha).Joined("rou", hubIsRemote: false, AppHostArgs.InstancesDirectory);

    private static DiveTopology JoiningSpoke() =>
        DiveTopology.Load(AppHostArgs.InstancesDirectory, "rou").Joined(null, hubIsRemote: true, AppHostArgs.InstancesDirectory);

    private static string[] Tokens(RedisUser user) => user.Rules.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void A_remote_spoke_gets_a_read_only_user_and_a_local_spoke_keeps_the_backend_user()
    {
        var hub = Hub();
        var users = RedisAcl.Users(hub.Blacklist, hub).ToDictionary(u => u.Name);
        Assert.Equal(["admin", "backend-bel", "backend-rou-ro", "backend-usa", "exporter", "operator"], users.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(RedisAcl.Backend(hub.Blacklist, hub.Hub).Rules, users["backend-bel"].Rules);
        Assert.Equal("redis-password-blacklist-backend-rou-ro", users["backend-rou-ro"].PasswordParameterName);
        Assert.Equal("REDIS_PASSWORD_BLACKLIST_BACKEND_ROU_RO", users["backend-rou-ro"].PasswordEnvironmentVariable);

        // The joining spoke's AppHost names the same user (and secret) for its backend.
        var spoke = JoiningSpoke();
        Assert.Equal(users["backend-rou-ro"], RedisAcl.SharedStoreUser(spoke, spoke.Spokes[0]));
        Assert.True(spoke.IsRemoteSpoke(spoke.Spokes[0]));
        Assert.False(hub.IsRemoteSpoke(hub.Hub));
        Assert.False(hub.IsRemoteSpoke(hub.Spokes[0]));
    }

    [Fact]
    public void The_read_only_user_reads_revocation_keys_and_subscribes_to_their_channels_only()
    {
        var rules = Tokens(RedisAcl.RemoteSpokeBackend(RedisStoreSpec.Blacklist, Hub().RemoteSpokes[0]));
        // Keys: read-only patterns only, and only the revocation keys.
        Assert.Equal(["%R~blacklist:*", "%R~user-revoked:*"], rules.Where(r => r.Contains('~')).Order(StringComparer.Ordinal));
        Assert.Equal(["&authz:invalidate", "&dive-v3:token-blacklist", "&dive-v3:user-revoked"], rules.Where(r => r.StartsWith('&')).Order(StringComparer.Ordinal));
        // What the check, the resync, a message's expiry, the subscriber and the HA primary check use.
        foreach (var command in new[] { "+exists", "+pttl", "+scan", "+subscribe", "+role", "+info" })
        {
            Assert.Contains(command, rules);
        }
        // Nothing that writes, expires, deletes, publishes or runs a script; no category that could bring one in. No GET:
        // the backend never reads a record (review R3), so other realms' revocation reasons stay unread.
        foreach (var command in new[] { "+get", "+mget", "+set", "+setex", "+psetex", "+expire", "+pexpire", "+del", "+unlink", "+publish", "+eval", "+evalsha", "+eval_ro",
            "+evalsha_ro", "+fcall", "+multi", "+exec", "+script|load", "+wait", "+persist", "+getdel", "+getex", "+rename", "+restore", "+copy" })
        {
            Assert.DoesNotContain(command, rules);
        }
        Assert.DoesNotContain(rules, r => r.StartsWith("+@", StringComparison.Ordinal) && r != "+@connection");
        Assert.Contains("-@dangerous", rules);
        Assert.StartsWith("resetkeys resetchannels -@all", RedisAcl.RemoteSpokeBackend(RedisStoreSpec.Blacklist, Hub().RemoteSpokes[0]).Rules, StringComparison.Ordinal);
    }

    [Fact]
    public void With_the_store_highly_available_the_remote_spoke_has_the_same_user_on_every_node_and_sentinel()
    {
        var hub = Hub(ha: true);
        foreach (var node in hub.BlacklistDataNodes)
        {
            var user = RedisAcl.Users(node, hub).Single(u => u.Name == "backend-rou-ro");
            Assert.DoesNotContain("+wait", user.Rules);
            Assert.Contains("%R~blacklist:*", user.Rules);
        }
        var onSentinels = RedisAcl.SentinelUsers(hub).Single(u => u.Name == "backend-rou-ro");
        Assert.Equal(RedisAcl.SharedStoreUser(hub, hub.RemoteSpokes[0]).PasswordParameterName, onSentinels.PasswordParameterName);
        // A Sentinel client's questions and events only (as every backend's): where the primary is, +switch-master.
        Assert.Contains("+sentinel|get-master-addr-by-name", onSentinels.Rules);
        Assert.DoesNotContain("failover", onSentinels.Rules);
        Assert.DoesNotContain("+publish", onSentinels.Rules);
    }
}
