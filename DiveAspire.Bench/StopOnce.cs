namespace DiveAspire.Bench;

/// <summary>Runs a stop once, however often and from whichever thread it is asked for: a signal and the normal end may both ask.</summary>
public sealed class StopOnce(Func<Task> stop)
{
    private readonly Lock _lock = new();
    private Task? _stopping;

    public ValueTask RunAsync()
    {
        lock (_lock)
        {
            return new(_stopping ??= stop());
        }
    }
}
