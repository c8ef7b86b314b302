using System.Diagnostics;
using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Tokens;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Operations;

/// <summary>
/// A spoke's checks (docs/CLI-GUIDE.md, "dive spoke"). The status checks only read; the federation checks sign a
/// throwaway development token for the hub's realm, revoke it on the hub and delete that revocation afterwards.
/// </summary>
public static class SpokeVerification
{
    public static readonly string[] StatusCheckNames =
    [
        "spoke Redis reachable",
        "spoke Redis requires a password",
        "spoke Redis AOF on",
        "spoke Redis eviction policy as planned",
        "spoke backend ready",
    ];

    public static readonly string[] FederationCheckNames =
    [
        "spoke subscribed to revocations",
        "spoke rate limiter on its Redis",
        "hub token accepted on the spoke",
        "hub revocation enforced on the spoke within 1 s (then cleaned up)",
    ];

    public static readonly TimeSpan PropagationLimit = TimeSpan.FromSeconds(1);

    /// <summary>Status (read-only): Redis, backend, subscription and limiter.</summary>
    public static async Task<VerificationReport> StatusAsync(DiveTopology topology, InstanceDefinition spoke, SecretsSource secrets, string? adminToken, CancellationToken ct = default)
    {
        var run = new VerificationRun();
        await StatusChecksAsync(run, spoke, secrets, ct).ConfigureAwait(false);
        await SubscriptionAndLimiterAsync(run, topology, spoke, secrets, adminToken, ct).ConfigureAwait(false);
        return run.Report($"spoke {spoke.Code}");
    }

    /// <summary>Every check: status, then a hub token and a hub revocation seen from the spoke.</summary>
    public static async Task<VerificationReport> VerifyAsync(DiveTopology topology, InstanceDefinition spoke, SecretsSource secrets, string? adminToken, CancellationToken ct = default)
    {
        var run = new VerificationRun();
        await StatusChecksAsync(run, spoke, secrets, ct).ConfigureAwait(false);
        await FederationChecksAsync(run, topology, spoke, secrets, adminToken, ct).ConfigureAwait(false);
        return run.Report($"spoke {spoke.Code}");
    }

    /// <summary>The federation checks only (what <c>verify-federation</c> runs for each spoke).</summary>
    public static async Task<VerificationReport> FederationAsync(DiveTopology topology, InstanceDefinition spoke, SecretsSource secrets, string? adminToken, CancellationToken ct = default)
    {
        var run = new VerificationRun();
        await FederationChecksAsync(run, topology, spoke, secrets, adminToken, ct).ConfigureAwait(false);
        return run.Report($"spoke {spoke.Code}");
    }

    private static async Task StatusChecksAsync(VerificationRun run, InstanceDefinition spoke, SecretsSource secrets, CancellationToken ct)
    {
        var redis = ConnectionResolver.Redis(RedisStoreSpec.ForInstance(spoke), null, secrets);
        RedisStatus? status = null;
        await run.CheckAsync(StatusCheckNames[0], async () =>
        {
            status = await RedisOperations.StatusAsync(redis, ct).ConfigureAwait(false);
            return (true, $"{redis}: Redis {status.Version}, {status.Role}, {status.Keys} keys");
        }).ConfigureAwait(false);
        await run.CheckAsync(StatusCheckNames[1], () => RedisChecks.PasswordRequiredAsync(redis, ct)).ConfigureAwait(false);
        await run.CheckAsync(StatusCheckNames[2], () => Task.FromResult(RedisChecks.Aof(redis, status))).ConfigureAwait(false);
        await run.CheckAsync(StatusCheckNames[3], () => Task.FromResult(RedisChecks.Eviction(redis, status))).ConfigureAwait(false);
        await run.CheckAsync(StatusCheckNames[4], () => BackendChecks.ReadyAsync(spoke, ct)).ConfigureAwait(false);
    }

    private static async Task FederationChecksAsync(VerificationRun run, DiveTopology topology, InstanceDefinition spoke, SecretsSource secrets, string? adminToken, CancellationToken ct)
    {
        await SubscriptionAndLimiterAsync(run, topology, spoke, secrets, adminToken, ct).ConfigureAwait(false);

        var user = $"dive-verify-{spoke.Code.ToLowerInvariant()}-{Guid.NewGuid():N}"[..32];
        var jti = $"dive-verify-{Guid.NewGuid():N}";
        string? token = null;
        using var http = new HttpProbe();
        var spokeApi = ConnectionResolver.Backend(spoke);
        var hubApi = ConnectionResolver.Backend(topology.Hub);
        await run.CheckAsync(FederationCheckNames[2], async () =>
        {
            var key = DevSigningKey() ?? throw new CheckSkippedException(
                $"no development signing key ({AdminToken.SigningKeyVariable} or the AppHost's user secrets): the process runtime generates it at './dive up'; the container runtime's realms issue tokens instead");
            token = DevTokenMinter.Mint(new(topology.Hub.Country, user, "UNCLASSIFIED", TimeSpan.FromMinutes(2), Jti: jti), key);
            var answer = await http.GetAsync(new Uri(spokeApi, "/api/resources"), token, ct).ConfigureAwait(false);
            return (answer.Status == 200, $"a {topology.Hub.Code} token for {user}: GET {spoke.BackendResourceName} /api/resources answered {answer.Describe()}");
        }).ConfigureAwait(false);
        await run.CheckAsync(FederationCheckNames[3], async () =>
        {
            if (token is null)
            {
                throw new CheckSkippedException("no token (see the previous check)");
            }
            var revoked = await http.PostJsonAsync(new Uri(hubApi, "/api/auth/blacklist-token"), new { jti, reason = "dive spoke verify" }, token, ct).ConfigureAwait(false);
            if (!revoked.Ok)
            {
                return (false, $"{topology.Hub.BackendResourceName} refused the revocation: {revoked.Describe()} {revoked.Field("message")}".TrimEnd());
            }
            try
            {
                var (enforcedAfter, last) = await WaitForRejectionAsync(http, new Uri(spokeApi, "/api/resources"), token, ct).ConfigureAwait(false);
                return enforcedAfter is { } after
                    ? (after <= PropagationLimit, $"{spoke.Code} answered 401 '{last.Field("message")}' {after.TotalMilliseconds:0} ms after {topology.Hub.Code} acknowledged the revocation")
                    : (false, $"{spoke.Code} still accepted the revoked token {2 * PropagationLimit.TotalSeconds:0} s after {topology.Hub.Code} acknowledged it (last answer {last.Describe()})");
            }
            finally
            {
                await BlacklistOperations.DeleteRevocationAsync(ConnectionResolver.Redis(topology.Blacklist, null, secrets), jti, ct).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
    }

    private static async Task SubscriptionAndLimiterAsync(VerificationRun run, DiveTopology topology, InstanceDefinition spoke, SecretsSource secrets, string? adminToken, CancellationToken ct)
    {
        await run.CheckAsync(FederationCheckNames[0], async () =>
        {
            var status = await BlacklistOperations.StatusAsync(ConnectionResolver.Redis(topology.Blacklist, null, secrets), [spoke.Code], ct).ConfigureAwait(false);
            var mine = status.Backends.Single();
            return (mine.Subscribed, mine.Subscribed
                ? $"{mine.ClientName} is subscribed on the shared store"
                : mine.Connected ? $"{mine.ClientName} is connected but not subscribed" : $"no connection named {mine.ClientName} on the shared store");
        }).ConfigureAwait(false);
        await run.CheckAsync(FederationCheckNames[1], async () =>
        {
            string bearer;
            try
            {
                bearer = AdminToken.Resolve(topology, adminToken);
            }
            catch (CliException ex)
            {
                throw new CheckSkippedException(ex.Message);
            }
            using var backend = new BackendOperations(spoke.BackendResourceName, ConnectionResolver.Backend(spoke), bearer);
            var report = await backend.RateLimitsAsync(ct).ConfigureAwait(false);
            return (report.Store == "redis", $"store {report.Store}{(report.Store == "redis" ? "" : ": the spoke's Redis failed, limits are per process")}");
        }).ConfigureAwait(false);
    }

    /// <summary>Polls the spoke until it answers 401; the elapsed time counts from the hub's acknowledgement.</summary>
    private static async Task<(TimeSpan? After, HttpAnswer Last)> WaitForRejectionAsync(HttpProbe http, Uri uri, string token, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var answer = await http.GetAsync(uri, token, ct).ConfigureAwait(false);
            if (answer.Status == 401)
            {
                return (clock.Elapsed, answer);
            }
            if (clock.Elapsed > 2 * PropagationLimit)
            {
                return (null, answer);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20), ct).ConfigureAwait(false);
        }
    }

    private static string? DevSigningKey() =>
        Environment.GetEnvironmentVariable(AdminToken.SigningKeyVariable) is { Length: > 0 } key ? key : AppHostSecrets.Parameter(Federation.DevSigningKeyParameter);
}
