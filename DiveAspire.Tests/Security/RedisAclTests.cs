using DiveAspire.Tests.Infrastructure;
using StackExchange.Redis;

namespace DiveAspire.Tests.Security;

/// <summary>
/// Issue 13: one compromised backend must not be able to wipe or weaken any Redis. Each check logs in with exactly
/// what a backend was given (its ConnectionStrings__cache / __blacklist) and tries what an attacker would, on every
/// backend and both of its stores. Run on the process runtime here and on Podman in ContainerRuntime/.
/// </summary>
public abstract class RedisAclChecks(FederationFixture federation)
{
    public static readonly string[][] DangerousCommands =
    [
        ["FLUSHALL"],
        ["FLUSHDB"],
        ["CONFIG", "SET", "appendfsync", "no"],
        ["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
        ["CONFIG", "REWRITE"],
        ["ACL", "SETUSER", "intruder", "on", ">intruder-password", "~*", "+@all"],
        ["ACL", "LIST"],
        ["DEBUG", "SLEEP", "0"],
        ["MODULE", "LOAD", "/tmp/none.so"],
        ["SCRIPT", "FLUSH"],
        ["KEYS", "*"],
        ["SHUTDOWN", "NOSAVE"], // last: before the fix it would stop the Redis
    ];

    /// <summary>Skips when the runtime under test is not available (Podman).</summary>
    protected virtual void SkipIfUnavailable()
    {
    }

    private IEnumerable<(string Code, string Store, string Redis)> BackendStores() =>
        federation.Topology.Instances.SelectMany(i => new[] { (i.LowerCode, "cache", i.RedisResourceName), (i.LowerCode, "blacklist", "redis-blacklist") });

    [SkippableFact]
    public async Task A_backends_credentials_are_refused_every_dangerous_command()
    {
        SkipIfUnavailable();
        foreach (var (code, store, redisName) in BackendStores())
        {
            var connectionString = await RedisClientCredentials.BackendConnectionStringAsync(federation, code, store);
            var user = RedisClientCredentials.UserOf(connectionString);
            await using var admin = await federation.ConnectAsync(redisName);
            await using var attacker = await RedisClientCredentials.ConnectAsync(connectionString);
            Assert.NotEqual("default", user);

            foreach (var command in DangerousCommands)
            {
                var text = string.Join(' ', command);
                var dryRun = await admin.GetDatabase().ExecuteAsync("ACL", ["DRYRUN", user, .. command]);
                Assert.False(dryRun.ToString() == "OK", $"ACL DRYRUN says {user} may run '{text}' on {redisName}");

                var refusal = await Assert.ThrowsAsync<RedisServerException>(() =>
                    attacker.GetDatabase().ExecuteAsync(command[0], command[1..].Cast<object>().ToArray()));
                // Redis 7 also refuses DEBUG and MODULE to everyone (enable-*-command no), before its ACL is asked; DRYRUN above asked the ACL.
                Assert.Matches("^(NOPERM|ERR (DEBUG|MODULE) command not allowed)", refusal.Message);
            }
            // Still alive.
            Assert.True(await admin.GetDatabase().PingAsync() >= TimeSpan.Zero);
        }
    }

    [SkippableFact]
    public async Task A_backend_cannot_touch_a_prefix_it_does_not_own()
    {
        SkipIfUnavailable();
        foreach (var (code, store, _) in BackendStores())
        {
            var connectionString = await RedisClientCredentials.BackendConnectionStringAsync(federation, code, store);
            await using var attacker = await RedisClientCredentials.ConnectAsync(connectionString);
            var db = attacker.GetDatabase();
            string[] foreign = store == "cache"
                ? ["blacklist:forged", "user-revoked:someone", "intruder:key"]
                : ["dive-v3:rate-limit:api:1.2.3.4", "otp:pending:someone", "dive-v3:oauth:code:forged", "intruder:key"];
            foreach (var key in foreign)
            {
                Assert.StartsWith("NOPERM", (await Assert.ThrowsAsync<RedisServerException>(() => db.StringSetAsync(key, "x"))).Message);
                Assert.StartsWith("NOPERM", (await Assert.ThrowsAsync<RedisServerException>(() => db.StringGetAsync(key))).Message);
                Assert.StartsWith("NOPERM", (await Assert.ThrowsAsync<RedisServerException>(() => db.KeyDeleteAsync(key))).Message);
            }
            if (store == "blacklist")
            {
                // Channels it does not use are closed too.
                Assert.StartsWith("NOPERM", (await Assert.ThrowsAsync<RedisServerException>(() =>
                    db.PublishAsync(RedisChannel.Literal("intruder-channel"), "x"))).Message);
            }
        }
    }

    [SkippableFact]
    public async Task Every_redis_has_the_default_user_off_and_only_admin_may_run_admin_commands()
    {
        SkipIfUnavailable();
        foreach (var redis in federation.RedisNames)
        {
            await using var admin = await federation.ConnectAsync(redis);
            var users = ((RedisResult[])(await admin.GetDatabase().ExecuteAsync("ACL", "LIST"))!).Select(u => u.ToString()).ToList();
            Assert.Contains(users, u => u.StartsWith("user default off ", StringComparison.Ordinal));
            var spec = federation.Topology.RedisStores.Single(s => s.ResourceName == redis);
            Assert.Equal(DiveAspire.Topology.RedisAcl.Users(spec, federation.Topology).Select(u => u.Name).Append("default").Order(StringComparer.Ordinal),
                users.Select(u => u.Split(' ')[1]).Order(StringComparer.Ordinal));
        }
    }
}

[Collection(FederationCollection.Name)]
[Trait("Category", "Security")]
public sealed class RedisAclTests(FederationFixture federation) : RedisAclChecks(federation);
