namespace DiveAspire.Backend.FederatedSearch;

public enum BreakerState { Closed, Open, HalfOpen }

/// <summary>
/// Opens after <c>threshold</c> consecutive failures; while open, callers skip the protected store. After
/// <c>breakDuration</c> one trial is let through (half-open): success closes it, failure opens it again.
/// </summary>
public sealed class CircuitBreaker(TimeProvider clock, int threshold, TimeSpan breakDuration)
{
    private readonly Lock _lock = new();
    private int _failures;
    private DateTimeOffset _openedAt;
    private BreakerState _state = BreakerState.Closed;

    public BreakerState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    public bool AllowRequest()
    {
        lock (_lock)
        {
            if (_state == BreakerState.Open && clock.GetUtcNow() >= _openedAt + breakDuration)
            {
                _state = BreakerState.HalfOpen;
            }
            return _state != BreakerState.Open;
        }
    }

    public void RecordSuccess()
    {
        lock (_lock)
        {
            _failures = 0;
            _state = BreakerState.Closed;
        }
    }

    public void RecordFailure()
    {
        lock (_lock)
        {
            _failures++;
            if (_state == BreakerState.HalfOpen || _failures >= threshold)
            {
                _state = BreakerState.Open;
                _openedAt = clock.GetUtcNow();
            }
        }
    }
}
