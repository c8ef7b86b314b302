using System.CommandLine;
using System.Globalization;
using DiveAspire.Cli.Operations;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Commands;

/// <summary><c>dive redis metrics | alerts</c>: what Prometheus knows about the Redis servers.</summary>
internal static class RedisMonitoringCommands
{
    public const string UrlVariable = "DIVE_PROMETHEUS_URL";

    private const string OfRedisJob = $"{{job=\"{MonitoringNames.RedisJob}\"}}";

    private static readonly (string Column, string Query)[] Series =
    [
        // The scrape itself: a Redis whose scrape fails has no redis_up sample at all, so it is listed from here.
        ("SCRAPED", "up" + OfRedisJob),
        ("UP", "redis_up" + OfRedisJob),
        ("MEMORY", "redis_memory_used_bytes" + OfRedisJob),
        ("MAX", "redis_memory_max_bytes" + OfRedisJob),
        ("CLIENTS", "redis_connected_clients" + OfRedisJob),
        ("KEYS", $"sum by (instance) (redis_db_keys{OfRedisJob})"),
        ("OPS/S", "redis_instantaneous_ops_per_sec" + OfRedisJob),
    ];

    public static Command Metrics(CliContext cli)
    {
        var (url, dryRun) = (UrlOption(), RedisOptions.DryRun());
        var command = new Command("metrics", "Redis metrics from Prometheus (redis_up, memory, clients, keys, ops/s) per scraped Redis; exit 1 if one is down") { url, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(dryRun))
            {
                return DryRunReport.Write(cli, parse, [.. Series.Select(s => new DryRunStep($"Prometheus ({PrometheusUrl(parse.GetValue(url)).GetLeftPart(UriPartial.Authority)})", $"GET /api/v1/query?query={s.Query}"))]);
            }
            using var prometheus = new PrometheusOperations(PrometheusUrl(parse.GetValue(url)));
            var byColumn = new Dictionary<string, IReadOnlyList<PrometheusSample>>();
            foreach (var (column, query) in Series)
            {
                byColumn[column] = await prometheus.QueryAsync(query, ct);
            }
            var targets = byColumn["UP"].Concat(byColumn["SCRAPED"]).Select(s => Instance(s)).Distinct().Order(StringComparer.Ordinal).ToList();
            if (byColumn["UP"].Count == 0)
            {
                throw new CliException($"Prometheus answers but has no redis_up series of job '{MonitoringNames.RedisJob}': is the Redis exporter running and scraped?");
            }
            double? Value(string column, string target) => byColumn[column].FirstOrDefault(s => Instance(s) == target)?.Value;
            var rows = targets.Select(t => new
            {
                instance = t,
                up = Value("UP", t) == 1 && Value("SCRAPED", t) != 0,
                memoryUsedBytes = Value("MEMORY", t),
                memoryMaxBytes = Value("MAX", t),
                clients = Value("CLIENTS", t),
                keys = Value("KEYS", t),
                opsPerSecond = Value("OPS/S", t),
            }).ToList();
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(new { redis = rows });
            }
            else
            {
                static string N(double? v) => v is { } x ? x.ToString("0", CultureInfo.InvariantCulture) : "-";
                static string B(double? v) => v is { } x ? (x > 0 ? RedisOperations.Bytes((long)x) : "unbounded") : "-";
                cli.WriteTable(["INSTANCE", "UP", "MEMORY", "MAX", "CLIENTS", "KEYS", "OPS/S"], rows.Select(r => (IReadOnlyList<string>)[
                    r.instance, RedisOptions.YesNo(r.up), B(r.memoryUsedBytes), B(r.memoryMaxBytes), N(r.clients), N(r.keys), N(r.opsPerSecond)]));
            }
            return rows.All(r => r.up) ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    public static Command Alerts(CliContext cli)
    {
        var url = UrlOption();
        var failOnFiring = new Option<bool>("--fail-on-firing") { Description = "Exit 1 when at least one alert is firing (for scripts); without it the exit code is 0 whenever Prometheus answered" };
        var dryRun = RedisOptions.DryRun();
        var command = new Command("alerts", "Active alerts from Prometheus (pending and firing); exit 0 when they could be listed") { url, failOnFiring, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(dryRun))
            {
                return DryRunReport.Write(cli, parse, [new($"Prometheus ({PrometheusUrl(parse.GetValue(url)).GetLeftPart(UriPartial.Authority)})", "GET /api/v1/alerts")]);
            }
            using var prometheus = new PrometheusOperations(PrometheusUrl(parse.GetValue(url)));
            var alerts = await prometheus.AlertsAsync(ct);
            var firing = alerts.Count(a => a.State == "firing");
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(new { alerts, firing, pending = alerts.Count - firing });
            }
            else if (alerts.Count == 0)
            {
                cli.Out.WriteLine("No active alerts.");
            }
            else
            {
                cli.WriteTable(["ALERT", "STATE", "SEVERITY", "INSTANCE", "SINCE", "SUMMARY"], alerts.Select(a => (IReadOnlyList<string>)[
                    a.Name, a.State, a.Severity ?? "-", a.Instance ?? "-", a.ActiveAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-", a.Summary ?? "-"]));
                cli.Out.WriteLine($"{firing} firing, {alerts.Count - firing} pending.");
            }
            return firing > 0 && parse.GetValue(failOnFiring) ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    internal static Option<string?> UrlOption() =>
        new("--prometheus") { Description = $"Prometheus URL (default: {UrlVariable}, else http://localhost:{PortPlan.Prometheus})" };

    internal static Uri PrometheusUrl(string? explicitUrl)
    {
        var text = explicitUrl is { Length: > 0 } ? explicitUrl
            : Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } fromEnv ? fromEnv
            : $"http://localhost:{PortPlan.Prometheus}";
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new CliException($"{(explicitUrl is { Length: > 0 } ? "--prometheus" : UrlVariable)} must be an http(s) URL such as http://localhost:{PortPlan.Prometheus} (got '{text}').", ExitCodes.Usage);
    }

    private static string Instance(PrometheusSample sample) =>
        sample.Labels.TryGetValue("instance", out var instance) ? instance : sample.Labels.GetValueOrDefault("job", "?");
}
