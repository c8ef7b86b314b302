using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace DiveAspire.Bench;

/// <summary>Collects result rows, prints them, and writes docs/benchmarks.md with machine, date and commit.</summary>
public sealed class Report(string repoRoot, bool quick)
{
    public sealed record Row(string Measure, string Value, string Baseline, string Ratio, string Target, string Verdict);

    private readonly List<Row> _rows = [];
    private readonly List<string> _notes = [];

    public void Add(string measure, string value, string baseline = "-", string ratio = "-", string target = "-", bool? met = null)
    {
        var row = new Row(measure, value, baseline, ratio, target, met switch { true => "met", false => "MISSED", null => "-" });
        _rows.Add(row);
        Console.WriteLine($"  {row.Measure}: {row.Value} (baseline {row.Baseline}, ratio {row.Ratio}, target {row.Target}: {row.Verdict})");
    }

    public void Note(string text)
    {
        _notes.Add(text);
        Console.WriteLine($"  note: {text}");
    }

    public static string F(double value, int decimals = 2) => value.ToString($"F{decimals}", CultureInfo.InvariantCulture);

    /// <summary>Everything from this line on in docs/benchmarks.md is written by hand (method, analysis) and kept by every run.</summary>
    public const string HandWrittenMarker = "<!-- Written by hand from here on: ./dive bench keeps it. -->";

    public string Write()
    {
        var path = Path.Combine(repoRoot, "docs", "benchmarks.md");
        var existing = File.Exists(path) ? File.ReadAllText(path) : "";
        var handWritten = existing.IndexOf(HandWrittenMarker, StringComparison.Ordinal) is var at and >= 0 ? existing[at..] : null;
        var sb = new StringBuilder();
        sb.AppendLine("# DiveAspire benchmarks");
        sb.AppendLine();
        sb.AppendLine($"Written by `./dive bench{(quick ? " --quick" : "")}`. Every ratio compares against a baseline measured in the same run on the same machine.");
        sb.AppendLine();
        sb.AppendLine($"- date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine($"- commit: {Git("rev-parse --short HEAD")}{(Git("status --porcelain").Length > 0 ? " (with uncommitted changes)" : "")}");
        sb.AppendLine($"- machine: {Environment.ProcessorCount} cores, {CpuModel()}, {MemoryGb()} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        sb.AppendLine($"- build: {AppHostProcess.BuildConfiguration} (the AppHost and every backend)");
        sb.AppendLine($"- mode: {(quick ? "quick (small samples; numbers are indicative, not asserted)" : "full")}");
        sb.AppendLine();
        sb.AppendLine("| Measure | Value | Baseline | Ratio | Target | |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in _rows)
        {
            sb.AppendLine($"| {r.Measure} | {r.Value} | {r.Baseline} | {r.Ratio} | {r.Target} | {r.Verdict} |");
        }
        if (_notes.Count > 0)
        {
            sb.AppendLine();
            foreach (var n in _notes)
            {
                sb.AppendLine($"- {n}");
            }
        }
        if (handWritten is not null)
        {
            sb.AppendLine();
            sb.Append(handWritten);
        }
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private string Git(string args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("git", args) { WorkingDirectory = repoRoot, RedirectStandardOutput = true, UseShellExecute = false })!;
            var output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    private static string CpuModel() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
            : "unknown CPU";

    private static string MemoryGb() =>
        File.Exists("/proc/meminfo")
            ? F(double.Parse(File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024 / 1024, 1)
            : "?";
}
