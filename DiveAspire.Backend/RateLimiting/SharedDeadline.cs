namespace DiveAspire.Backend.RateLimiting;

/// <summary>
/// Bounds waits on Redis replies without a timer per request (<c>Task.WaitAsync(TimeSpan)</c> creates and cancels one for
/// every command): the waits that start within the same <see cref="Slot"/> share one expiry task, which completes between
/// <c>timeout</c> and <c>timeout + Slot</c> after each of them started. At most one timer per slot exists, and only while
/// requests arrive.
/// </summary>
public sealed class SharedDeadline(TimeSpan timeout)
{
    public static readonly TimeSpan Slot = TimeSpan.FromMilliseconds(250);

    private sealed record Expiry(long StartedAt, Task Elapsed);

    private Expiry? _current;

    /// <summary>Completes no earlier than <c>timeout</c> from now, and no later than <c>timeout + Slot</c>.</summary>
    public Task Current
    {
        get
        {
            var now = Environment.TickCount64;
            var current = Volatile.Read(ref _current);
            if (current is not null && now - current.StartedAt < (long)Slot.TotalMilliseconds)
            {
                return current.Elapsed;
            }
            var fresh = new Expiry(now, Task.Delay(timeout + Slot));
            // Another thread may have started the slot first: use its expiry (the spare timer just fires unobserved).
            return (Interlocked.CompareExchange(ref _current, fresh, current) == current ? fresh : Volatile.Read(ref _current)!).Elapsed;
        }
    }
}
