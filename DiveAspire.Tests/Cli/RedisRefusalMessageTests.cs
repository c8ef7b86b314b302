using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Operations;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Tests.Cli;

/// <summary>What the CLI says when a reachable Redis refuses a write, from a real redis-server's own refusal.</summary>
public sealed class RedisRefusalMessageTests
{
    [Fact]
    public async Task A_primary_without_a_replica_in_sync_is_named_as_such_not_as_unreachable()
    {
        using var server = new PlainRedisServer(password: true, aof: false);
        var target = new RedisTarget(RedisStoreSpec.Blacklist, "127.0.0.1", server.Port, RedisAcl.AdminUser, server.Password, "test");
        await using var connection = await RedisConnector.ConnectAsync(target);
        // What an HA primary cut off from its replicas does for min-replicas-max-lag: this one has no replica at all.
        await connection.GetServers()[0].ConfigSetAsync("min-replicas-to-write", 1);
        var refused = await Assert.ThrowsAsync<RedisServerException>(() => connection.GetDatabase().KeyDeleteAsync("blacklist:some-jti"));

        var error = RedisConnector.Describe(target, refused).Message;

        Assert.Equal($"{target} refused the write: no replica is in sync (NOREPLICAS, min-replicas-to-write); the refused command " +
            "wrote nothing, earlier steps of a multi-step command stand; check the replicas with './dive redis sentinel status', then run it again.", error);
        Assert.DoesNotContain(server.Password!, error);
    }
}
