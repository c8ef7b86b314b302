using System.Text.Json;
using System.Text.RegularExpressions;

namespace DiveAspire.Tests.Monitoring;

/// <summary>The PromQL of the DIVE Redis dashboard, with Grafana's variables replaced as Grafana would for "All".</summary>
public static partial class DashboardQueries
{
    public static JsonElement Load() => JsonDocument.Parse(File.ReadAllText(RepositoryFiles.Dashboard)).RootElement;

    public static IEnumerable<(string Panel, string Expr)> Targets(JsonElement dashboard) =>
        dashboard.GetProperty("panels").EnumerateArray().SelectMany(panel =>
            panel.GetProperty("targets").EnumerateArray().Select(t => (panel.GetProperty("title").GetString()!, t.GetProperty("expr").GetString()!)));

    /// <summary>"All" for $instance (the variable's allValue) and a rate window that covers several test scrapes.</summary>
    public static string Runnable(string expr) => expr.Replace("$instance", ".*", StringComparison.Ordinal).Replace("$__rate_interval", "30s", StringComparison.Ordinal);

    /// <summary>label_values(metric, label) of a query variable, as the metric selector it reads.</summary>
    public static (string Metric, string Label) LabelValues(string query)
    {
        var match = LabelValuesCall().Match(query);
        Assert.True(match.Success, $"not a label_values(metric, label) query: {query}");
        return (match.Groups[1].Value, match.Groups[2].Value);
    }

    [GeneratedRegex(@"^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$")]
    private static partial Regex LabelValuesCall();
}
