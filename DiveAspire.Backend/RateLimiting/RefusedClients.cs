using System.Collections.Concurrent;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>
/// Which limiter windows refused their last request, until those windows reset. It decides no admission (the limiter's
/// script still runs for every request); it only lets work that a refused request would waste be skipped, such as the
/// catalog read that GET /api/resources sends ahead of the limiter (<see cref="Catalog.CatalogPrefetch"/>). Bounded: beyond
/// <see cref="MaxEntries"/> live refusals nothing more is remembered (the skipped work is then done again).
/// </summary>
public sealed class RefusedClients(TimeProvider clock)
{
    public const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, long> _until = new(StringComparer.Ordinal);
    private int _count;

    /// <summary>Called with each decision of a window (its Redis key, see <see cref="RateLimitPolicies.KeyPrefix"/>).</summary>
    public void Record(string key, WindowResult result)
    {
        if (result.Admitted)
        {
            // Hot path: one volatile read while nobody is refused.
            if (Volatile.Read(ref _count) > 0 && _until.TryRemove(key, out _))
            {
                Interlocked.Decrement(ref _count);
            }
            return;
        }
        var until = (clock.GetUtcNow() + result.ResetAfter).UtcTicks;
        // Every entry enters through the counted TryAdd and leaves through a counted TryRemove, so the count follows the
        // map (a refresh that races with a removal adds again, counted). Review S1: an indexer refresh re-added uncounted.
        while (true)
        {
            if (_until.TryGetValue(key, out var old))
            {
                if (_until.TryUpdate(key, until, old))
                {
                    return;
                }
                continue;
            }
            if (Volatile.Read(ref _count) >= MaxEntries)
            {
                Prune();
                if (Volatile.Read(ref _count) >= MaxEntries)
                {
                    return;
                }
            }
            if (_until.TryAdd(key, until))
            {
                Interlocked.Increment(ref _count);
                return;
            }
        }
    }

    /// <summary>Whether any window is remembered (a volatile read: callers skip building a key while none is).</summary>
    public bool Any => Volatile.Read(ref _count) > 0;

    /// <summary>True while the window at <paramref name="key"/> refused its last request and has not reset since.</summary>
    public bool IsRefused(string key) =>
        Volatile.Read(ref _count) > 0 && _until.TryGetValue(key, out var until) && clock.GetUtcNow().UtcTicks < until;

    private void Prune()
    {
        var now = clock.GetUtcNow().UtcTicks;
        foreach (var (key, until) in _until)
        {
            if (until <= now && _until.TryRemove(key, out _))
            {
                Interlocked.Decrement(ref _count);
            }
        }
    }
}
