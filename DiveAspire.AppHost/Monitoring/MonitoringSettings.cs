using System.Globalization;
using System.Text.RegularExpressions;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.AppHost.Monitoring;

/// <summary>
/// The <c>Dive:Monitoring:*</c> settings (monitoring itself is switched by <c>Dive:Monitoring=true|false</c>).
/// <c>AlertFor</c> replaces every rule's <c>for</c> duration in the generated copy of the rules: meant for tests,
/// which cannot wait five minutes for RedisDown.
/// </summary>
public sealed partial record MonitoringSettings(
    string ScrapeInterval,
    string? AlertFor,
    Uri? WebhookUrl,
    string PrometheusCommand,
    string AlertmanagerCommand,
    string RedisExporterCommand)
{
    public const string DefaultScrapeInterval = "15s";

    /// <summary>
    /// The exporter's Redis connection timeout: well below Prometheus's scrape timeout (at most the interval), so an
    /// unreachable Redis gives redis_up 0 instead of a failed scrape.
    /// </summary>
    public string ExporterConnectionTimeout =>
        string.Create(CultureInfo.InvariantCulture, $"{(long)Math.Min(5000, ToTimeSpan(ScrapeInterval).TotalMilliseconds / 2)}ms");

    private static TimeSpan ToTimeSpan(string duration)
    {
        var match = PrometheusDuration().Match(duration);
        var value = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(value),
            "s" => TimeSpan.FromSeconds(value),
            "m" => TimeSpan.FromMinutes(value),
            _ => TimeSpan.FromHours(value),
        };
    }

    public static MonitoringSettings From(IConfiguration config)
    {
        var section = config.GetSection("Dive:Monitoring");
        return new MonitoringSettings(
            Duration(section["ScrapeInterval"], "ScrapeInterval") ?? DefaultScrapeInterval,
            Duration(section["AlertFor"], "AlertFor"),
            Webhook(section["WebhookUrl"]),
            NonEmpty(section["Prometheus"]) ?? "prometheus",
            NonEmpty(section["Alertmanager"]) ?? "prometheus-alertmanager",
            NonEmpty(section["RedisExporter"]) ?? "prometheus-redis-exporter");
    }

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static string? Duration(string? text, string key)
    {
        if (NonEmpty(text) is not { } value)
        {
            return null;
        }
        return PrometheusDuration().IsMatch(value)
            ? value
            : throw new TopologyException($"Dive:Monitoring:{key} must be a Prometheus duration such as 15s, 500ms or 5m (got '{value}').");
    }

    private static Uri? Webhook(string? text)
    {
        if (NonEmpty(text) is not { } value)
        {
            return null;
        }
        // The URL may embed a token (Slack, Teams): never echo it back.
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new TopologyException("Dive:Monitoring:WebhookUrl must be an absolute http:// or https:// URL.");
    }

    [GeneratedRegex(@"^([0-9]+)(ms|s|m|h)$")]
    private static partial Regex PrometheusDuration();
}
