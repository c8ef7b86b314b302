namespace DiveAspire.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>A check failed or a target is unreachable.</summary>
    public const int Failed = 1;
    /// <summary>The command line or its input is wrong.</summary>
    public const int Usage = 2;
}

/// <summary>An expected failure: printed as one line with its exit code, never as a stack trace.</summary>
public sealed class CliException(string message, int exitCode = ExitCodes.Failed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
