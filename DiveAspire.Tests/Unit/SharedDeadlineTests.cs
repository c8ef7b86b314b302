using System.Diagnostics;
using DiveAspire.Backend.RateLimiting;

namespace DiveAspire.Tests.Unit;

/// <summary>The one expiry that bounds the Redis waits started within a slot: never early, at most a slot late, shared.</summary>
public sealed class SharedDeadlineTests
{
    [Fact]
    public async Task Waits_started_within_a_slot_share_one_expiry_that_is_never_early()
    {
        var timeout = TimeSpan.FromMilliseconds(400);
        var deadline = new SharedDeadline(timeout);
        var started = Stopwatch.StartNew();
        var first = deadline.Current;
        Assert.Same(first, deadline.Current);
        Assert.False(first.IsCompleted);

        await first;
        // Never before the timeout; the upper bound (timeout + slot) is left to the timer and is not asserted on a loaded machine.
        Assert.True(started.Elapsed >= timeout, $"expired after {started.Elapsed.TotalMilliseconds:F0} ms");
        // A wait that starts now (a slot has passed) gets a fresh expiry, not the elapsed one.
        var next = deadline.Current;
        Assert.NotSame(first, next);
        Assert.False(next.IsCompleted);
    }
}
