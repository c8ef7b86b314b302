using System.Diagnostics;
using DiveAspire.Cli;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Integration;

/// <summary>Signals reach a real child process through kill(2), with no kill program on the machine.</summary>
public sealed class LocalProcessesSignalTests
{
    [Fact]
    public async Task Stop_and_cont_pause_and_resume_the_process()
    {
        using var sleep = StartSleep();
        try
        {
            Assert.True(LocalProcesses.Signal(sleep.Id, UnixSignal.Stop));
            await HttpAssertions.EventuallyAsync(() => Task.FromResult(State(sleep.Id) == 'T'), TimeSpan.FromSeconds(10), "the process to be stopped");
            Assert.True(LocalProcesses.IsRunning(sleep.Id), "a stopped process is still running (not a zombie)");

            Assert.True(LocalProcesses.Signal(sleep.Id, UnixSignal.Cont));
            await HttpAssertions.EventuallyAsync(() => Task.FromResult(State(sleep.Id) is 'S' or 'R'), TimeSpan.FromSeconds(10), "the process to run again");
            Assert.False(sleep.HasExited);
        }
        finally
        {
            sleep.Kill();
        }
    }

    [Theory]
    [InlineData(UnixSignal.Term)]
    [InlineData(UnixSignal.Kill)]
    public void Term_and_kill_end_the_process_by_that_signal(UnixSignal signal)
    {
        using var sleep = StartSleep();
        try
        {
            Assert.True(LocalProcesses.Signal(sleep.Id, signal));
            Assert.True(sleep.WaitForExit(TimeSpan.FromSeconds(10)), $"SIG{signal} did not end the process");
            Assert.Equal(128 + (int)signal, sleep.ExitCode); // .NET's exit code for a child ended by a signal
        }
        finally
        {
            if (!sleep.HasExited)
            {
                sleep.Kill();
            }
        }
    }

    [Fact]
    public void A_process_that_does_not_exist_is_reported_not_signalled()
    {
        var beyondLastPid = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim()) + 1;
        Assert.False(LocalProcesses.Signal(beyondLastPid, UnixSignal.Term));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_process_group_or_every_process_is_never_signalled(int pid)
    {
        // Signal 0 only checks permissions, so a broken guard would not harm the machine running this test.
        Assert.Throws<ArgumentOutOfRangeException>(() => LocalProcesses.Signal(pid, (UnixSignal)0));
    }

    private static Process StartSleep() =>
        Process.Start(new ProcessStartInfo("sleep", ["300"]) { UseShellExecute = false }) ?? throw new InvalidOperationException("sleep did not start");

    private static char State(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }
}
