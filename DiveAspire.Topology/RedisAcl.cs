using System.Security.Cryptography;
using System.Text;

namespace DiveAspire.Topology;

public enum RedisUserRole { Admin, Operator, Exporter, Backend, Replication, Sentinel }

/// <summary>
/// One ACL user of one Redis. The admin keeps the Redis's historical secret (<c>redis-password-&lt;label&gt;</c>,
/// <c>REDIS_PASSWORD_&lt;LABEL&gt;</c>); every other user has its own: <c>redis-password-&lt;label&gt;-&lt;user&gt;</c>,
/// <c>REDIS_PASSWORD_&lt;LABEL&gt;_&lt;USER&gt;</c>.
/// </summary>
public sealed record RedisUser(RedisStoreSpec Store, string Name, RedisUserRole Role, string Rules)
{
    public string PasswordParameterName => Role == RedisUserRole.Admin ? Store.PasswordParameterName : $"{Store.PasswordParameterName}-{Name}";

    public string PasswordEnvironmentVariable => Role == RedisUserRole.Admin
        ? Store.PasswordEnvironmentVariable
        : $"{Store.PasswordEnvironmentVariable}_{Name.ToUpperInvariant().Replace('-', '_')}";

    public string GcpSecretName => Role == RedisUserRole.Admin ? Store.GcpSecretName : $"{Store.GcpSecretName}-{Name}";

    /// <summary>The ACL file line: the password only as its SHA-256, so the file holds no usable secret.</summary>
    public string AclLine(string password) =>
        $"user {Name} on #{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password)))} {Rules}";
}

/// <summary>
/// Least privilege in every Redis (issue 13): the <c>default</c> user is off and each client has its own user, generated
/// from the topology. Rules are read left to right; each starts from nothing (<c>resetkeys resetchannels -@all</c>),
/// so a user only has what is listed. Commands are named so that the file loads on Redis 7.0 (Debian) and 8.x (image).
/// With the HA topology (issue 14) every data node also has <c>replication</c> and <c>sentinel</c>, and each Sentinel
/// has its own users with the same names and passwords as the data nodes' (<see cref="SentinelUsers"/>): a client
/// logs in to the Sentinels and to the primary they name with one credential.
/// </summary>
public static class RedisAcl
{
    public const string AdminUser = "admin";
    public const string OperatorUser = "operator";
    public const string ExporterUser = "exporter";
    public const string InstanceBackendUser = "backend";
    /// <summary>HA: what replicas log in to their primary as (<c>masteruser</c>/<c>masterauth</c>).</summary>
    public const string ReplicationUser = "replication";
    /// <summary>HA: what Sentinels log in to data nodes (<c>auth-user</c>) and to each other (<c>sentinel-user</c>) as.</summary>
    public const string SentinelUser = "sentinel";

    /// <summary>
    /// Off and without password, so no client can ever be (or log in as) <c>default</c>. It keeps every permission all
    /// the same: Redis 7.0 replays a MULTI/EXEC from the AOF as the default user and re-checks the ACL at EXEC, so a
    /// default user without rights silently drops every transaction at restart (each revocation is one MULTI: all
    /// acknowledged revocations were lost after a kill -9 of the shared store until this was found).
    /// </summary>
    public const string DefaultUserLine = "user default off resetpass ~* &* +@all";

    /// <summary>AUTH, HELLO, PING, ECHO, SELECT, CLIENT SETNAME/SETINFO/ID/INFO: what every client needs to log in and say who it is.</summary>
    private const string Handshake = "resetkeys resetchannels -@all +@connection -@dangerous";

    /// <summary>Lua "longest expiry wins" and friends: scripts run with the caller's key and command rights.</summary>
    private const string Scripting = "+eval +evalsha +eval_ro +evalsha_ro +script|load +script|exists";

    /// <summary>
    /// What StackExchange.Redis must not try with any user but admin: CONFIG GET and CLUSTER NODES at connect (refused, so
    /// left out of its command map), and the tie-breaker key and configuration channel (no key or channel of the user).
    /// Appended to every connection string but admin's so a refused command in the ACL log always means something is wrong.
    /// </summary>
    public const string ClientOptions = ",tiebreaker=,configChannel=,$CONFIG=,$CLUSTER=";

    /// <summary>
    /// Keys and channels each backend uses on the shared store (RevocationKeys, DecisionCache, InvalidationSubscriber);
    /// ROLE: with HA a backend confirms that the node the Sentinels name is the primary before it writes there.
    /// </summary>
    private const string SharedStoreBackendRules =
        Handshake + " ~blacklist:* ~user-revoked:* &dive-v3:token-blacklist &dive-v3:user-revoked &authz:invalidate" +
        " +info +get +mget +set +setex +psetex +exists +ttl +pttl +expire +pexpire +scan +multi +exec +discard +watch +unwatch" +
        " +publish +subscribe +unsubscribe +wait +role " + Scripting;

    /// <summary>
    /// A spoke that runs on another machine than the hub (<see cref="DiveTopology.IsRemoteSpoke"/>): its operator holds
    /// this credential, so it may only see revocations (<c>%R~</c>: EXISTS, PTTL, TTL, SCAN for the check, the resync and
    /// the expiry of a message; no GET: other realms' records, their reasons, stay unread) and subscribe to the revocation
    /// and invalidation channels. No write, no PUBLISH, no script: it can neither lift, shorten, forge nor announce a
    /// revocation. Its revocations go through the hub's API (the backend's <c>Dive:Revocation:Relay</c>). ROLE and INFO:
    /// the client's handshake and the HA primary check.
    /// </summary>
    private const string SharedStoreRemoteSpokeRules =
        Handshake + " %R~blacklist:* %R~user-revoked:* &dive-v3:token-blacklist &dive-v3:user-revoked &authz:invalidate" +
        " +info +role +exists +ttl +pttl +scan +subscribe +unsubscribe";

    /// <summary>The suffix of a remote spoke's read-only user on the shared store: <c>backend-rou-ro</c>.</summary>
    public const string ReadOnlySuffix = "-ro";

    /// <summary>
    /// An instance's own Redis: the backend owns <c>dive-v3:*</c> (rate limits, OAuth codes, decisions, catalog),
    /// <c>dive:*</c> (federated search cache) and <c>otp:*</c>. Data commands only: nothing @dangerous (FLUSH*, KEYS,
    /// CONFIG, DEBUG, SHUTDOWN, ...), no SCRIPT FLUSH/KILL, no FUNCTION, no pub/sub.
    /// </summary>
    private const string InstanceBackendRules =
        Handshake + " ~dive-v3:* ~dive:* ~otp:*" +
        " +@read +@write +@string +@hash +@list +@set +@sortedset +@keyspace +@transaction +@scripting -@dangerous" +
        " -script|flush -script|kill -function -@pubsub +info " + Scripting;

    /// <summary>Metrics only: INFO and latency. No key, no channel, no CONFIG (the exporter runs with -config-command=-), no SLOWLOG GET (it holds arguments).</summary>
    private const string ExporterRules = Handshake + " +info +latency|latest +latency|histogram +slowlog|len";

    /// <summary>What `dive redis status|health|stats|blacklist status` read: INFO, key counts by SCAN, subscribers, client names. Read-only on keys.</summary>
    private const string OperatorRules =
        Handshake + " %R~* +info +dbsize +scan +type +ttl +pttl +exists +pubsub|numsub +pubsub|channels +client|list +latency|latest +slowlog|len";

    private const string AdminRules = "~* &* +@all";

    /// <summary>A replica's link to its primary: PSYNC and REPLCONF only (the rules Redis documents for a replica user).</summary>
    private const string ReplicationRules = Handshake + " +psync +sync +replconf +ping";

    /// <summary>
    /// What a Sentinel runs on a data node (Redis's documented minimum): monitoring (PING, INFO, ROLE), its hello channel,
    /// and the failover itself (MULTI, REPLICAOF/SLAVEOF, CONFIG REWRITE, CLIENT KILL, EXEC). No key.
    /// </summary>
    private const string SentinelOnDataNodeRules =
        Handshake + " &__sentinel__:hello +ping +info +role +publish +subscribe +multi +exec +slaveof +replicaof" +
        " +config|rewrite +client|kill +script|kill";

    /// <summary>Sentinel's read-only questions about the service, and its event channels (+switch-master, +sdown, ...).</summary>
    private const string SentinelQueries =
        " +ping +info +role +sentinel|get-master-addr-by-name +sentinel|master +sentinel|masters +sentinel|replicas +sentinel|slaves" +
        " +sentinel|sentinels +sentinel|ckquorum +sentinel|myid +sentinel|info-cache";

    /// <summary>On a Sentinel, a client (backend, CLI) asks where the primary is and listens for +switch-master.</summary>
    private const string SentinelClientRules =
        Handshake + " &+switch-master &+sentinel" + SentinelQueries + " +subscribe +unsubscribe";

    /// <summary>On a Sentinel, the operator also sees every event and the clients.</summary>
    private const string SentinelOperatorRules =
        Handshake + " &*" + SentinelQueries + " +subscribe +unsubscribe +psubscribe +punsubscribe +client|list";

    private const string SentinelExporterRules = Handshake + SentinelQueries;

    /// <summary>One Sentinel on another: the leader vote, hello messages, INFO and PING.</summary>
    private const string SentinelPeerRules =
        Handshake + " &__sentinel__:hello +ping +info +role +publish +sentinel|is-master-down-by-addr";

    public static RedisUser Admin(RedisStoreSpec store) => new(store, AdminUser, RedisUserRole.Admin, AdminRules);
    public static RedisUser Operator(RedisStoreSpec store) => new(store, OperatorUser, RedisUserRole.Operator, OperatorRules);
    public static RedisUser Exporter(RedisStoreSpec store) => new(store, ExporterUser, RedisUserRole.Exporter, ExporterRules);

    /// <summary>The user one backend logs in with: <c>backend-&lt;code&gt;</c> on the shared store, <c>backend</c> on its own Redis.</summary>
    public static RedisUser Backend(RedisStoreSpec store, InstanceDefinition instance) => store.Kind == RedisKind.TokenStore
        ? new(store, SharedStoreBackendUsers(instance.Code).ReadWrite, RedisUserRole.Backend, SharedStoreBackendRules)
        : new(store, InstanceBackendUser, RedisUserRole.Backend, InstanceBackendRules);

    /// <summary>A remote spoke's read-only user on the shared store: <c>backend-&lt;code&gt;-ro</c> (password <c>redis-password-blacklist-backend-&lt;code&gt;-ro</c>).</summary>
    public static RedisUser RemoteSpokeBackend(RedisStoreSpec store, InstanceDefinition instance) =>
        new(store, SharedStoreBackendUsers(instance.Code).ReadOnly, RedisUserRole.Backend, SharedStoreRemoteSpokeRules);

    /// <summary>The users one instance's backend may log in to the shared store with: <c>backend-rou</c>, and <c>backend-rou-ro</c> when it runs on another machine.</summary>
    public static SharedStoreBackendUserNames SharedStoreBackendUsers(string instanceCode)
    {
        var user = $"backend-{instanceCode.ToLowerInvariant()}";
        return new(user, user + ReadOnlySuffix);
    }

    /// <summary>The user an instance's backend logs in to the shared store with: read-only for a remote spoke, else <see cref="Backend"/>.</summary>
    public static RedisUser SharedStoreUser(DiveTopology topology, InstanceDefinition instance) =>
        topology.IsRemoteSpoke(instance) ? RemoteSpokeBackend(topology.Blacklist, instance) : Backend(topology.Blacklist, instance);

    public static RedisUser Replication(RedisStoreSpec store) => new(store, ReplicationUser, RedisUserRole.Replication, ReplicationRules);
    public static RedisUser Sentinel(RedisStoreSpec store) => new(store, SentinelUser, RedisUserRole.Sentinel, SentinelOnDataNodeRules);

    /// <summary>
    /// Every user of one Redis: admin, operator, exporter, and one backend per instance that uses it (read-only for a
    /// remote spoke, see <see cref="SharedStoreUser"/>); with the HA
    /// topology the shared store's data nodes also have <c>replication</c> and <c>sentinel</c>.
    /// </summary>
    public static IReadOnlyList<RedisUser> Users(RedisStoreSpec store, DiveTopology topology)
    {
        var backends = store.Kind == RedisKind.TokenStore
            ? topology.SharedStoreClients.Select(i => SharedStoreUser(topology, i) with { Store = store })
            : topology.Instances.Where(i => i.Code == store.Label).Take(1).Select(i => Backend(store, i));
        IEnumerable<RedisUser> ha = store.Kind == RedisKind.TokenStore && topology.BlacklistHa is not null
            ? [Replication(store), Sentinel(store)]
            : [];
        return [Admin(store), Operator(store), Exporter(store), .. backends, .. ha];
    }

    /// <summary>
    /// The users of each Sentinel of the HA topology: the data nodes' names and passwords (StackExchange.Redis logs in to
    /// the Sentinels and the primary with one credential) with Sentinel rules, and <c>sentinel</c> for the other Sentinels.
    /// No replication user: nothing replicates from a Sentinel.
    /// </summary>
    public static IReadOnlyList<RedisUser> SentinelUsers(DiveTopology topology)
    {
        var store = topology.Blacklist;
        return
        [
            Admin(store),
            new(store, OperatorUser, RedisUserRole.Operator, SentinelOperatorRules),
            new(store, ExporterUser, RedisUserRole.Exporter, SentinelExporterRules),
            .. topology.SharedStoreClients.Select(i => SharedStoreUser(topology, i) with { Rules = SentinelClientRules }),
            new(store, SentinelUser, RedisUserRole.Sentinel, SentinelPeerRules),
        ];
    }

    /// <summary>The ACL file of one Redis: the default user off, then one line per user (Redis allows no comment in it).</summary>
    public static string Render(IEnumerable<(RedisUser User, string Password)> users)
    {
        var text = new StringBuilder().AppendLine(DefaultUserLine);
        foreach (var (user, password) in users)
        {
            text.AppendLine(user.AclLine(password));
        }
        return text.ToString();
    }

    /// <summary>What only <c>admin</c> may run (checked by `dive redis health` with ACL DRYRUN for every other user).</summary>
    public static readonly IReadOnlyList<string[]> AdminOnlyCommands =
    [
        ["FLUSHALL"],
        ["FLUSHDB"],
        ["CONFIG", "SET", "appendfsync", "no"],
        ["CONFIG", "REWRITE"],
        ["CONFIG", "RESETSTAT"],
        ["ACL", "SETUSER", "intruder"],
        ["ACL", "DELUSER", "intruder"],
        ["ACL", "LOAD"],
        ["ACL", "LIST"],
        ["SHUTDOWN"],
        ["DEBUG", "SLEEP", "0"],
        ["MODULE", "LOAD", "/nonexistent.so"],
        ["SCRIPT", "FLUSH"],
        ["REPLICAOF", "127.0.0.1", "1"],
        ["SLAVEOF", "127.0.0.1", "1"],
        ["CLIENT", "KILL", "ID", "1"],
        ["FAILOVER"],
    ];
}

/// <summary>The two ACL users of one instance's backend on the shared store.</summary>
public readonly record struct SharedStoreBackendUserNames(string ReadWrite, string ReadOnly)
{
    public bool Contains(string? user) => user == ReadWrite || user == ReadOnly;
}
