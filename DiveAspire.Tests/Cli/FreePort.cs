namespace DiveAspire.Tests.Cli;

public static class FreePort
{
    /// <summary>A loopback port nothing listens on right now, outside the kernel's ephemeral range, and never handed out before in this test run (the AppHost's own pick).</summary>
    public static int Next() => Aspire.Hosting.BackendPort.FreeLoopbackPort();
}
