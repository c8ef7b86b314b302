namespace DiveAspire.Tests.Infrastructure;

/// <summary>A clock a unit test moves by hand (the system under test is real; only time is faked).</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public ManualClock() : this(DateTimeOffset.UnixEpoch)
    {
    }

    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}
