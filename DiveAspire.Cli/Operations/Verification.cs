namespace DiveAspire.Cli.Operations;

/// <summary>One numbered check of a verification: <c>pass</c>, <c>fail</c> or <c>skipped</c> (could not run; the detail says why).</summary>
public sealed record VerificationCheck(int Number, string Name, string Outcome, string Detail)
{
    public const string Pass = "pass";
    public const string Fail = "fail";
    public const string Skipped = "skipped";
}

/// <summary>The checks of one subject (the hub, a spoke). A skipped check is not a pass.</summary>
public sealed record VerificationReport(string Subject, IReadOnlyList<VerificationCheck> Checks)
{
    public int Passed => Checks.Count(c => c.Outcome == VerificationCheck.Pass);
    public int Failed => Checks.Count(c => c.Outcome == VerificationCheck.Fail);
    public int SkippedCount => Checks.Count(c => c.Outcome == VerificationCheck.Skipped);
    public bool AllPassed => Passed == Checks.Count;
}

/// <summary>A check that cannot run here (monitoring off, no development signing key): reported as skipped, with why.</summary>
public sealed class CheckSkippedException(string reason) : Exception(reason);

/// <summary>Runs checks one after another; a failure or skip becomes that check's outcome, never an exception.</summary>
public sealed class VerificationRun
{
    private readonly List<VerificationCheck> _checks = [];

    public IReadOnlyList<VerificationCheck> Checks => _checks;

    /// <summary>Runs <paramref name="check"/>: (true, detail) passes, (false, detail) fails.</summary>
    public async Task CheckAsync(string name, Func<Task<(bool Passed, string Detail)>> check)
    {
        var number = _checks.Count + 1;
        try
        {
            var (passed, detail) = await check().ConfigureAwait(false);
            _checks.Add(new(number, name, passed ? VerificationCheck.Pass : VerificationCheck.Fail, detail));
        }
        catch (CheckSkippedException ex)
        {
            _checks.Add(new(number, name, VerificationCheck.Skipped, ex.Message));
        }
        catch (CliException ex)
        {
            _checks.Add(new(number, name, VerificationCheck.Fail, ex.Message));
        }
    }

    public VerificationReport Report(string subject) => new(subject, [.. _checks]);
}
