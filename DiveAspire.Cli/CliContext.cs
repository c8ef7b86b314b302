using System.CommandLine;
using System.Text.Json;
using DiveAspire.Topology;

namespace DiveAspire.Cli;

/// <summary>What every command shares: global options, the topology from instances/, and output helpers.</summary>
public sealed class CliContext(TextWriter stdout, TextWriter stderr)
{
    public static readonly Option<bool> JsonOption = new("--json") { Description = "Machine-readable JSON output", Recursive = true };

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public TextWriter Out { get; } = stdout;
    public TextWriter Error { get; } = stderr;

    /// <summary>instances/ of the repository: DIVE_INSTANCES, else found above the current directory or the CLI binary.</summary>
    public static string InstancesDirectory()
    {
        if (Environment.GetEnvironmentVariable("DIVE_INSTANCES") is { Length: > 0 } explicitPath)
        {
            return Path.GetFullPath(explicitPath);
        }
        try
        {
            return DiveTopology.FindInstancesDirectory(Directory.GetCurrentDirectory());
        }
        catch (TopologyException)
        {
            return DiveTopology.FindInstancesDirectory(AppContext.BaseDirectory);
        }
    }

    public static DiveTopology LoadTopology(string? spokes = null) => DiveTopology.Load(InstancesDirectory(), spokes);

    public void WriteJson<T>(T value) => Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>Prints rows as an aligned plain-text table.</summary>
    public void WriteTable(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        Out.WriteLine(string.Join("  ", headers.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        Out.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in all)
        {
            Out.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        }
    }
}
