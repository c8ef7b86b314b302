using System.CommandLine;
using DiveAspire.Cli.AppState;
using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Operations;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Commands;

/// <summary>
/// <c>dive health</c>: every running instance's backend and Redis, the shared store and monitoring, one line each.
/// Which instances and whether monitoring runs come from the running AppHost (<c>dive ps</c>'s state file) when there
/// is one, else from instances/ (or --spokes).
/// </summary>
internal static class HealthCommand
{
    public sealed record HealthRow(string Component, string Target, string State, string Detail)
    {
        public const string Up = "up";
        public const string Down = "down";
        public const string NotStarted = "not started";
    }

    public static Command Create(CliContext cli)
    {
        var (spokes, secrets, dryRun) = (RedisOptions.RunningSpokes(), RedisOptions.Secrets(), RedisOptions.DryRun());
        var command = new Command("health", "Backend and Redis of every running instance, the shared store and monitoring at a glance; exit 0 only when all are up")
        {
            spokes, secrets, dryRun,
        };
        command.SetAction(async (parse, ct) =>
        {
            var app = PsCommand.TryRunningState();
            var topology = CliContext.LoadTopology(parse.GetValue(spokes) ?? PsCommand.RunningSpokes(app));
            var source = RedisOptions.ParseSecrets(parse.GetValue(secrets));
            var redis = topology.RedisStores.Select(spec => ConnectionResolver.Redis(spec, null, parse.GetValue(dryRun) ? SecretsSource.Local : source)).ToList();
            var monitoring = Monitoring(app);
            if (parse.GetValue(dryRun))
            {
                return DryRunReport.Write(cli, parse, [
                    .. redis.Select(r => RedisOptions.Reads(r, "INFO")),
                    .. topology.Instances.Select(i => new DryRunStep($"{i.BackendResourceName} ({ConnectionResolver.Backend(i).GetLeftPart(UriPartial.Authority)})", "GET /health/ready")),
                    .. monitoring.Select(m => new DryRunStep($"{m.Name} ({m.Url.GetLeftPart(UriPartial.Authority)})", m.Expected ? $"GET {m.Url.AbsolutePath}" : "nothing: the running app did not start it")),
                ]);
            }
            var rows = new List<Task<HealthRow>>();
            rows.AddRange(redis.Select(r => RedisRowAsync(r, ct)));
            rows.AddRange(topology.Instances.Select(i => BackendRowAsync(i, ct)));
            rows.AddRange(monitoring.Select(m => MonitoringRowAsync(m, ct)));
            var all = await Task.WhenAll(rows);
            var healthy = all.All(r => r.State != HealthRow.Down);
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(new { healthy, appRunning = app is not null, components = all });
            }
            else
            {
                cli.WriteTable(["COMPONENT", "TARGET", "STATE", "DETAIL"], all.Select(r => (IReadOnlyList<string>)[r.Component, r.Target, r.State, r.Detail]));
                cli.Out.WriteLine($"{all.Count(r => r.State == HealthRow.Up)}/{all.Count(r => r.State != HealthRow.NotStarted)} up{(app is null ? " (no running AppHost found: checked every instance in instances/)" : "")}.");
            }
            return healthy ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private sealed record MonitoringTarget(string Name, Uri Url, bool Expected);

    private static List<MonitoringTarget> Monitoring(AppHostState? app)
    {
        Uri Url(string resource, int plannedPort, string path) =>
            new(new Uri(app?.Resources.FirstOrDefault(r => r.Name == resource)?.Urls.FirstOrDefault(u => u.StartsWith("http", StringComparison.Ordinal))
                ?? (resource == MonitoringNames.Prometheus && Environment.GetEnvironmentVariable(RedisMonitoringCommands.UrlVariable) is { Length: > 0 } fromEnv ? fromEnv : null)
                ?? $"http://localhost:{plannedPort}"), path);
        bool Expected(string resource) => app is null || app.Runs(resource);
        return
        [
            new(MonitoringNames.Prometheus, Url(MonitoringNames.Prometheus, PortPlan.Prometheus, "/-/ready"), Expected(MonitoringNames.Prometheus)),
            new(MonitoringNames.RedisExporter, Url(MonitoringNames.RedisExporter, PortPlan.RedisExporter, "/metrics"), Expected(MonitoringNames.RedisExporter)),
            new(MonitoringNames.Alertmanager, Url(MonitoringNames.Alertmanager, PortPlan.Alertmanager, "/-/ready"), Expected(MonitoringNames.Alertmanager)),
        ];
    }

    private static async Task<HealthRow> RedisRowAsync(RedisTarget target, CancellationToken ct)
    {
        var status = await RedisOperations.StatusOrErrorAsync(target, ct).ConfigureAwait(false);
        return status.Reachable
            ? new(target.Name, target.Endpoint, HealthRow.Up, $"Redis {status.Version}, {status.Keys} keys, {RedisOperations.Bytes(status.UsedMemoryBytes ?? 0)} used, AOF {(status.Aof == true ? "on" : "off")}")
            : new(target.Name, target.Endpoint, HealthRow.Down, status.LastError ?? "unreachable");
    }

    private static async Task<HealthRow> BackendRowAsync(InstanceDefinition instance, CancellationToken ct)
    {
        var (ready, detail) = await BackendChecks.ReadyAsync(instance, ct).ConfigureAwait(false);
        var target = ConnectionResolver.Backend(instance).GetLeftPart(UriPartial.Authority);
        return new(instance.BackendResourceName, target, ready ? HealthRow.Up : HealthRow.Down, detail[(detail.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
    }

    private static async Task<HealthRow> MonitoringRowAsync(MonitoringTarget m, CancellationToken ct)
    {
        var target = m.Url.GetLeftPart(UriPartial.Authority);
        if (!m.Expected)
        {
            return new(m.Name, target, HealthRow.NotStarted, "the running app has no monitoring ('./dive up --no-monitoring')");
        }
        using var probe = new HttpProbe();
        var answer = await probe.GetAsync(m.Url, ct: ct).ConfigureAwait(false);
        return new(m.Name, target, answer.Ok ? HealthRow.Up : HealthRow.Down, answer.Status is null ? answer.Error! : $"{m.Url.AbsolutePath} {answer.Status}");
    }
}
