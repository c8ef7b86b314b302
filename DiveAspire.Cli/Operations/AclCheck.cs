using DiveAspire.Cli.Connections;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Cli.Operations;

/// <summary>
/// The <c>acl</c> health check (issue 13), as admin: the default user is off, and no user but admin may run any of
/// <see cref="RedisAcl.AdminOnlyCommands"/> (asked with ACL DRYRUN, which runs nothing).
/// </summary>
public static class AclCheck
{
    public const string Name = "acl";

    /// <summary>
    /// With HA, Sentinel reconfigures the shared store's data nodes (REPLICAOF, CONFIG REWRITE so that a restarted node
    /// keeps its new role, CLIENT KILL of the clients of a deposed primary: Redis's documented minimum for a Sentinel
    /// user). Only there, and only for the sentinel user; on any other Redis those are findings.
    /// </summary>
    private static bool Expected(RedisTarget target, string user, string[] command) =>
        target.Spec.Kind == RedisKind.TokenStore && user == RedisAcl.SentinelUser
        && command is ["CONFIG", "REWRITE", ..] or ["REPLICAOF", ..] or ["SLAVEOF", ..] or ["CLIENT", "KILL", ..];

    public static async Task<HealthCheck> RunAsync(RedisTarget target, CancellationToken ct)
    {
        RedisTarget admin;
        try
        {
            admin = target.AsAdmin();
            await using var connection = await RedisConnector.ConnectAsync(admin, ct).ConfigureAwait(false);
            var db = connection.GetDatabase();
            var users = ((RedisResult[])(await RedisOperations.Guard(admin, db.ExecuteAsync("ACL", "LIST")).ConfigureAwait(false))!)
                .Select(line => line.ToString().Split(' '))
                .Where(words => words.Length >= 3 && words[0] == "user")
                .ToDictionary(words => words[1], words => words);
            var problems = new List<string>();
            if (!users.TryGetValue("default", out var defaultUser) || defaultUser.Contains("on"))
            {
                problems.Add("the default user is on");
            }
            foreach (var user in users.Keys.Where(u => u is not ("default" or RedisAcl.AdminUser)).Order(StringComparer.Ordinal))
            {
                foreach (var command in RedisAcl.AdminOnlyCommands.Where(c => !Expected(target, user, c)))
                {
                    var reply = await RedisOperations.Guard(admin, db.ExecuteAsync("ACL", ["DRYRUN", user, .. command])).ConfigureAwait(false);
                    if (reply.ToString() == "OK")
                    {
                        problems.Add($"{user} may run {string.Join(' ', command.Take(2))}");
                    }
                }
            }
            return problems.Count == 0
                ? new(Name, true, $"default user off; none of {users.Count - 2} other users may run FLUSH*, CONFIG SET, ACL, SHUTDOWN, DEBUG, MODULE, SCRIPT FLUSH, REPLICAOF, CLIENT KILL or FAILOVER")
                : new(Name, false, string.Join("; ", problems));
        }
        catch (CliException ex)
        {
            return new(Name, false, $"could not check as {RedisAcl.AdminUser}: {ex.Message}");
        }
    }
}
