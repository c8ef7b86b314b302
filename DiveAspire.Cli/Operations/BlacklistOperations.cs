using DiveAspire.Cli.Connections;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Cli.Operations;

/// <summary>The shared revocation store: counts and clears revocations, and tells which backends listen for them.</summary>
public static class BlacklistOperations
{
    public const string TokenKeyPattern = "blacklist:*";
    public const string UserKeyPattern = "user-revoked:*";
    public const string TokenChannel = "dive-v3:token-blacklist";
    public const string UserChannel = "dive-v3:user-revoked";

    /// <summary>The CLIENT SETNAME of a backend's connection to the shared store (see the backend's RedisStores).</summary>
    public static string BackendClientName(string instanceCode) => $"dive-backend-{instanceCode.ToLowerInvariant()}-blacklist";

    public static async Task<BlacklistStatus> StatusAsync(RedisTarget target, IEnumerable<string> instanceCodes, CancellationToken ct = default)
    {
        await using var connection = await RedisConnector.ConnectAsync(target, ct).ConfigureAwait(false);
        var server = connection.GetServer(connection.GetEndPoints()[0]);

        var tokens = await RedisOperations.Guard(target, RedisOperations.CountAsync(connection, TokenKeyPattern, ct)).ConfigureAwait(false);
        var users = await RedisOperations.Guard(target, RedisOperations.CountAsync(connection, UserKeyPattern, ct)).ConfigureAwait(false);

        var numsub = (RedisResult[])(await RedisOperations.Guard(target, connection.GetDatabase().ExecuteAsync("PUBSUB", "NUMSUB", TokenChannel, UserChannel)).ConfigureAwait(false))!;
        var subscribers = new Dictionary<string, long>();
        for (var i = 0; i + 1 < numsub.Length; i += 2)
        {
            subscribers[(string)numsub[i]!] = (long)numsub[i + 1];
        }

        var clients = await RedisOperations.Guard(target, server.ClientListAsync()).ConfigureAwait(false);
        var impostors = new List<ImpostorClient>();
        var backends = instanceCodes.Select(code =>
        {
            var name = BackendClientName(code);
            var named = clients.Where(c => c.Name == name).Select(c => (Client: c, User: UserOf(c))).ToList();
            // Any user may name its connection (CLIENT SETNAME, HELLO SETNAME): only the instance's own ACL user counts.
            var legitimate = RedisAcl.SharedStoreBackendUsers(code);
            var mine = named.Where(c => legitimate.Contains(c.User)).Select(c => c.Client).ToList();
            impostors.AddRange(named.Where(c => !legitimate.Contains(c.User)).Select(c => new ImpostorClient(name, c.User ?? "?", c.Client.Address?.ToString() ?? "?")));
            return new BackendSubscription(code, name, mine.Count > 0, mine.Any(c => c.SubscriptionCount > 0 || c.PatternSubscriptionCount > 0));
        }).ToList();

        return new BlacklistStatus(target.Name, target.Endpoint, true, tokens, users, subscribers, backends, impostors);
    }

    /// <summary>The ACL user of a client (the <c>user=</c> field of CLIENT LIST, which StackExchange.Redis does not parse).</summary>
    private static string? UserOf(ClientInfo client) =>
        client.Raw?.Split(' ').FirstOrDefault(field => field.StartsWith("user=", StringComparison.Ordinal))?["user=".Length..];

    /// <summary>Deletes one token's revocation (<c>blacklist:{jti}</c>), e.g. the throwaway one of a verification.</summary>
    public static async Task DeleteRevocationAsync(RedisTarget target, string jti, CancellationToken ct = default)
    {
        target = target.AsAdmin(); // deleting a revocation is an admin action, like blacklist clear
        await using var connection = await RedisConnector.ConnectAsync(target, ct).ConfigureAwait(false);
        await RedisOperations.Guard(target, connection.GetDatabase().KeyDeleteAsync($"blacklist:{jti}")).ConfigureAwait(false);
    }

    /// <summary>Deletes every revocation (<c>blacklist:*</c>, <c>user-revoked:*</c>) and nothing else in the shared store.</summary>
    public static async Task<BlacklistClearResult> ClearAsync(RedisTarget target, bool dryRun, CancellationToken ct = default)
    {
        target = dryRun ? target : target.AsAdmin();
        await using var connection = await RedisConnector.ConnectAsync(target, ct).ConfigureAwait(false);
        var tokens = await RedisOperations.Guard(target, RedisOperations.DeleteMatchingAsync(connection, TokenKeyPattern, dryRun, ct)).ConfigureAwait(false);
        var users = await RedisOperations.Guard(target, RedisOperations.DeleteMatchingAsync(connection, UserKeyPattern, dryRun, ct)).ConfigureAwait(false);
        return new BlacklistClearResult(target.Name, target.Endpoint, tokens, users, dryRun);
    }
}
