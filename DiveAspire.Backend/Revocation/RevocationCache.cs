using System.Collections.Concurrent;
using DiveAspire.Backend.Metrics;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// This backend's in-memory copy of the shared store's revocations, so a request check costs no Redis round trip.
/// An entry lives exactly as long as its key does in the store: lookups ignore expired entries and
/// <see cref="Sweep"/> drops them.
/// </summary>
public sealed class RevocationCache(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Entry> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry> _users = new(StringComparer.Ordinal);

    /// <summary>
    /// When the entry ends, when this cache last heard of it (a resync keeps entries it heard of after its scan began),
    /// and when it first held it (what an operator asks: since when does this backend reject it).
    /// </summary>
    private readonly record struct Entry(DateTimeOffset ExpiresAt, DateTimeOffset ObservedAt, DateTimeOffset HeldSince);

    public int TokenCount => _tokens.Count;
    public int UserCount => _users.Count;

    public bool IsTokenRevoked(string jti) => IsLive(_tokens, jti);
    public bool IsUserRevoked(string userId) => IsLive(_users, userId);

    public bool Contains(RevocationKind kind, string identifier) => IsLive(Map(kind), identifier);

    /// <summary>Since when this cache has held a live revocation (null when it holds none).</summary>
    public DateTimeOffset? HeldSince(RevocationKind kind, string identifier) =>
        Map(kind).TryGetValue(identifier, out var entry) && entry.ExpiresAt > clock.GetUtcNow() ? entry.HeldSince : null;

    public void Add(RevocationKind kind, string identifier, DateTimeOffset expiresAt)
    {
        var now = clock.GetUtcNow();
        if (expiresAt <= now)
        {
            return;
        }
        var map = Map(kind);
        map[identifier] = new Entry(expiresAt, now, HeldSinceOr(map, identifier, now));
        PublishSize();
    }

    public void Remove(RevocationKind kind, string identifier)
    {
        if (Map(kind).TryRemove(identifier, out _))
        {
            PublishSize();
        }
    }

    /// <summary>
    /// Makes the cache equal to a store snapshot taken by a scan that began at <paramref name="scanStartedAt"/>:
    /// adds what the store has, drops what it no longer has, but keeps entries heard of (pub/sub) after the scan began,
    /// which the scan may have missed.
    /// </summary>
    public void ReplaceWith(IReadOnlyDictionary<string, DateTimeOffset> tokens, IReadOnlyDictionary<string, DateTimeOffset> users, DateTimeOffset scanStartedAt)
    {
        Replace(_tokens, tokens, scanStartedAt);
        Replace(_users, users, scanStartedAt);
        PublishSize();
    }

    /// <summary>Drops entries whose TTL ended; returns how many.</summary>
    public int Sweep()
    {
        var now = clock.GetUtcNow();
        var removed = 0;
        foreach (var map in new[] { _tokens, _users })
        {
            foreach (var (key, entry) in map)
            {
                if (entry.ExpiresAt <= now && map.TryRemove(new KeyValuePair<string, Entry>(key, entry)))
                {
                    removed++;
                }
            }
        }
        if (removed > 0)
        {
            PublishSize();
        }
        return removed;
    }

    private void Replace(ConcurrentDictionary<string, Entry> map, IReadOnlyDictionary<string, DateTimeOffset> snapshot, DateTimeOffset scanStartedAt)
    {
        var now = clock.GetUtcNow();
        foreach (var (identifier, expiresAt) in snapshot)
        {
            if (expiresAt > now)
            {
                map[identifier] = new Entry(expiresAt, now, HeldSinceOr(map, identifier, now));
            }
        }
        foreach (var (identifier, entry) in map)
        {
            if (!snapshot.ContainsKey(identifier) && entry.ObservedAt < scanStartedAt)
            {
                map.TryRemove(new KeyValuePair<string, Entry>(identifier, entry));
            }
        }
    }

    private DateTimeOffset HeldSinceOr(ConcurrentDictionary<string, Entry> map, string identifier, DateTimeOffset now) =>
        map.TryGetValue(identifier, out var entry) && entry.ExpiresAt > now ? entry.HeldSince : now;

    private bool IsLive(ConcurrentDictionary<string, Entry> map, string identifier) =>
        map.TryGetValue(identifier, out var entry) && entry.ExpiresAt > clock.GetUtcNow();

    private ConcurrentDictionary<string, Entry> Map(RevocationKind kind) => kind == RevocationKind.Token ? _tokens : _users;

    private void PublishSize()
    {
        DiveMetrics.RevocationCacheSize.WithLabels("token").Set(_tokens.Count);
        DiveMetrics.RevocationCacheSize.WithLabels("user").Set(_users.Count);
    }
}
