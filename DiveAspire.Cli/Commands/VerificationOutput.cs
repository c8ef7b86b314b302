using System.CommandLine;
using DiveAspire.Cli.Operations;

namespace DiveAspire.Cli.Commands;

/// <summary>Prints verification reports (one numbered line per check) and turns them into the exit code.</summary>
internal static class VerificationOutput
{
    public static Option<bool> AllowSkipped() =>
        new("--allow-skipped") { Description = "Exit 0 when every check that could run passed (e.g. monitoring off); without it a skipped check fails the run" };

    public static int Write(CliContext cli, ParseResult parse, IReadOnlyList<VerificationReport> reports, bool allowSkipped = false)
    {
        var ok = reports.All(r => r.Failed == 0 && (allowSkipped || r.SkippedCount == 0));
        if (parse.GetValue(CliContext.JsonOption))
        {
            cli.WriteJson(new
            {
                ok,
                reports = reports.Select(r => new { subject = r.Subject, r.Checks, passed = r.Passed, failed = r.Failed, skipped = r.SkippedCount, total = r.Checks.Count }),
            });
            return ok ? ExitCodes.Ok : ExitCodes.Failed;
        }
        foreach (var report in reports)
        {
            cli.Out.WriteLine($"Verification of the {report.Subject}");
            foreach (var check in report.Checks)
            {
                var mark = check.Outcome switch { VerificationCheck.Pass => "PASS", VerificationCheck.Fail => "FAIL", _ => "SKIP" };
                cli.Out.WriteLine($"  {check.Number,2}. [{mark}] {check.Name}: {check.Detail}");
            }
            cli.Out.WriteLine($"Checks passed: {report.Passed}/{report.Checks.Count}{(report.SkippedCount > 0 ? $" ({report.SkippedCount} skipped{(allowSkipped ? ", allowed" : ": not a pass")})" : "")}");
        }
        if (reports.Count > 1)
        {
            cli.Out.WriteLine(ok ? $"All {reports.Count} verified." : $"{reports.Count(r => r.Failed > 0 || (!allowSkipped && r.SkippedCount > 0))} of {reports.Count} not verified.");
        }
        return ok ? ExitCodes.Ok : ExitCodes.Failed;
    }
}
