namespace DiveAspire.Backend.RateLimiting;

/// <summary>
/// The same fixed windows in process memory, used while the instance's Redis is unreachable. Exact within one replica
/// only: replicas do not share these counters.
/// </summary>
public sealed class MemoryWindows(TimeProvider clock)
{
    private readonly Dictionary<string, (long Count, DateTimeOffset Ends)> _windows = new();
    private readonly Lock _lock = new();

    public WindowResult Apply(string key, LimitRule rule, WindowMode mode)
    {
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            if (!_windows.TryGetValue(key, out var window) || window.Ends <= now)
            {
                window = (0, now + rule.Window);
            }
            var admitted = mode == WindowMode.Refund || window.Count < rule.Max;
            if (mode == WindowMode.Hit && admitted)
            {
                window.Count++;
            }
            else if (mode == WindowMode.Refund && window.Count > 0)
            {
                window.Count--;
            }
            if (window.Count > 0)
            {
                _windows[key] = window;
            }
            else
            {
                _windows.Remove(key);
            }
            return new WindowResult(window.Count, window.Ends - now, admitted);
        }
    }

    public IReadOnlyList<string> LiveKeys(string prefix)
    {
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            foreach (var expired in _windows.Where(w => w.Value.Ends <= now).Select(w => w.Key).ToList())
            {
                _windows.Remove(expired);
            }
            return _windows.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        }
    }

    public int Remove(Func<string, bool> match)
    {
        lock (_lock)
        {
            var keys = _windows.Keys.Where(match).ToList();
            keys.ForEach(k => _windows.Remove(k));
            return keys.Count;
        }
    }
}
