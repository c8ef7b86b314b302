using System.Text.RegularExpressions;
using DiveAspire.Topology;

namespace DiveAspire.AppHost.Monitoring;

/// <summary>The shipped rule files (monitoring/prometheus/rules/*.yml), optionally with every <c>for</c> replaced.</summary>
public static partial class MonitoringRules
{
    public static IReadOnlyList<(string Name, string Text)> Load(string rulesDirectory, string? alertFor)
    {
        if (!Directory.Exists(rulesDirectory))
        {
            throw new TopologyException($"The alert rules folder '{rulesDirectory}' is missing.");
        }
        return Directory.GetFiles(rulesDirectory, "*.yml")
            .Order(StringComparer.Ordinal)
            .Select(path => (Path.GetFileName(path), Rewrite(File.ReadAllText(path), alertFor)))
            .ToList();
    }

    private static string Rewrite(string text, string? alertFor) =>
        alertFor is null ? text : ForLine().Replace(text, m => $"{m.Groups[1].Value}for: {alertFor}");

    [GeneratedRegex(@"^(\s+)for:\s*\S+[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex ForLine();
}
