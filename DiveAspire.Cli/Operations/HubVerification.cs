using DiveAspire.Cli.Connections;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Operations;

/// <summary>
/// The hub's 10-point verification (docs/CLI-GUIDE.md, "dive hub verify"). Read-only: it connects, reads and asks,
/// and changes nothing.
/// </summary>
public static class HubVerification
{
    public static readonly string[] CheckNames =
    [
        "hub Redis reachable",
        "hub Redis requires a password",
        "hub Redis AOF on",
        "hub Redis eviction policy as planned",
        "shared store reachable",
        "shared store noeviction + appendfsync always",
        "every backend subscribed to revocations",
        "hub backend ready",
        "monitoring targets up",
        "no firing critical alert",
    ];

    public static async Task<VerificationReport> RunAsync(DiveTopology topology, SecretsSource secrets, Uri prometheus, CancellationToken ct = default)
    {
        var hub = ConnectionResolver.Redis(RedisStoreSpec.ForInstance(topology.Hub), null, secrets);
        var shared = ConnectionResolver.Redis(topology.Blacklist, null, secrets);
        var run = new VerificationRun();
        RedisStatus? hubStatus = null;
        RedisStatus? sharedStatus = null;

        await run.CheckAsync(CheckNames[0], async () =>
        {
            hubStatus = await RedisOperations.StatusAsync(hub, ct).ConfigureAwait(false);
            return (true, $"{hub}: Redis {hubStatus.Version}, {hubStatus.Role}, {hubStatus.Keys} keys");
        }).ConfigureAwait(false);
        await run.CheckAsync(CheckNames[1], () => RedisChecks.PasswordRequiredAsync(hub, ct)).ConfigureAwait(false);
        await run.CheckAsync(CheckNames[2], () => Task.FromResult(RedisChecks.Aof(hub, hubStatus))).ConfigureAwait(false);
        await run.CheckAsync(CheckNames[3], () => Task.FromResult(RedisChecks.Eviction(hub, hubStatus))).ConfigureAwait(false);
        await run.CheckAsync(CheckNames[4], async () =>
        {
            sharedStatus = await RedisOperations.StatusAsync(shared, ct).ConfigureAwait(false);
            return (true, $"{shared}: Redis {sharedStatus.Version}, {sharedStatus.Keys} keys");
        }).ConfigureAwait(false);
        await run.CheckAsync(CheckNames[5], async () =>
        {
            RedisChecks.Reached(shared, sharedStatus);
            var fsync = await RedisChecks.ConfigGetAsync(shared.AsAdmin(), "appendfsync", ct).ConfigureAwait(false);
            var passed = sharedStatus!.EvictionPolicy == "noeviction" && sharedStatus.Aof == true && fsync == "always";
            return (passed, $"maxmemory-policy {sharedStatus.EvictionPolicy}, appendonly {(sharedStatus.Aof == true ? "yes" : "no")}, appendfsync {fsync ?? "?"}");
        }).ConfigureAwait(false);
        await run.CheckAsync(CheckNames[6], async () =>
        {
            RedisChecks.Reached(shared, sharedStatus);
            var status = await BlacklistOperations.StatusAsync(shared, topology.Instances.Select(i => i.Code), ct).ConfigureAwait(false);
            var missing = status.Backends.Where(b => !b.Subscribed).Select(b => b.Instance).ToList();
            return (missing.Count == 0, missing.Count == 0
                ? $"{status.Backends.Count} of {status.Backends.Count} subscribed ({string.Join(", ", status.Backends.Select(b => b.Instance))})"
                : $"not subscribed: {string.Join(", ", missing)} ({status.Backends.Count - missing.Count} of {status.Backends.Count} subscribed)");
        }).ConfigureAwait(false);
        await run.CheckAsync(CheckNames[7], () => BackendChecks.ReadyAsync(topology.Hub, ct)).ConfigureAwait(false);

        using var monitoring = new PrometheusOperations(prometheus);
        await run.CheckAsync(CheckNames[8], async () =>
        {
            // Every configured target, also one not scraped yet (health "unknown"): the up query would not list it.
            var targets = await MonitoringReachable(prometheus, () => monitoring.TargetsAsync(ct)).ConfigureAwait(false);
            var down = targets.Where(t => t.Health != "up").Select(t => $"{t.Job}/{t.Instance} ({t.Health})").ToList();
            return (targets.Count > 0 && down.Count == 0, down.Count == 0 ? $"{targets.Count} of {targets.Count} targets up" : $"not up: {string.Join(", ", down)}");
        }).ConfigureAwait(false);
        await run.CheckAsync(CheckNames[9], async () =>
        {
            var alerts = await MonitoringReachable(prometheus, () => monitoring.AlertsAsync(ct)).ConfigureAwait(false);
            var critical = alerts.Where(a => a.State == "firing" && a.Severity == "critical").Select(a => $"{a.Name} ({a.Instance})").ToList();
            return (critical.Count == 0, critical.Count == 0 ? $"{alerts.Count(a => a.State == "firing")} firing, none critical" : $"firing: {string.Join(", ", critical)}");
        }).ConfigureAwait(false);
        return run.Report($"hub {topology.Hub.Code}");
    }

    /// <summary>Nothing listening where Prometheus should be means monitoring is off (or not started): the check cannot run.</summary>
    private static async Task<T> MonitoringReachable<T>(Uri prometheus, Func<Task<T>> query)
    {
        if (!await PortProbe.AnswersAsync(prometheus).ConfigureAwait(false))
        {
            throw new CheckSkippedException($"Prometheus does not answer at {prometheus.GetLeftPart(UriPartial.Authority)}: monitoring is off ('./dive up --no-monitoring') or not started; set DIVE_PROMETHEUS_URL if it runs elsewhere");
        }
        return await query().ConfigureAwait(false);
    }
}
