using System.Collections.Concurrent;
using DiveAspire.Backend.Metrics;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// This backend's in-memory copy of the shared store's revocations, so a request check costs no Redis round trip.
/// An entry lives exactly as long as its key does in the store (a key without TTL: for ever): lookups ignore expired
/// entries and <see cref="Sweep"/> drops them.
/// The cache holds at most <see cref="MaxEntries"/> entries (tokens and users together). A revocation that does not fit
/// is refused and the cache is <see cref="Overflowed"/>: it no longer knows every revocation, so the backend refuses
/// tokens it does not know (503, whatever the failure mode) until a resync that began after the last refusal fits
/// everything again. Nothing is evicted: a full cache never forgets a revocation it holds.
/// </summary>
public sealed class RevocationCache(TimeProvider clock, int maxEntries = RevocationOptions.DefaultCacheMaxEntries)
{
    private readonly ConcurrentDictionary<string, Entry> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry> _users = new(StringComparer.Ordinal);
    private int _count;
    private long _lastRefusalTicks;

    /// <summary>
    /// When the entry ends, when this cache last heard of it (a resync keeps entries it heard of after its scan began),
    /// and when it first held it (what an operator asks: since when does this backend reject it).
    /// </summary>
    // Exact: the expiry was read from the store (or the store's answer to our own write); a provisional one comes from a message.
    private readonly record struct Entry(DateTimeOffset ExpiresAt, DateTimeOffset ObservedAt, DateTimeOffset HeldSince, bool Exact = true);

    public int TokenCount => _tokens.Count;
    public int UserCount => _users.Count;
    public int Count => Volatile.Read(ref _count);
    public int MaxEntries => maxEntries;

    /// <summary>True since a revocation was refused for lack of room, until a later resync fitted the whole store.</summary>
    public bool Overflowed => Interlocked.Read(ref _lastRefusalTicks) != 0;

    public bool IsTokenRevoked(string jti) => IsLive(_tokens, jti);
    public bool IsUserRevoked(string userId) => IsLive(_users, userId);

    public bool Contains(RevocationKind kind, string identifier) => IsLive(Map(kind), identifier);

    /// <summary>Since when this cache has held a live revocation (null when it holds none).</summary>
    public DateTimeOffset? HeldSince(RevocationKind kind, string identifier) =>
        Map(kind).TryGetValue(identifier, out var entry) && entry.ExpiresAt > clock.GetUtcNow() ? entry.HeldSince : null;

    /// <summary>
    /// An entry's exact expiry as the store states it; false when the cache is full. It replaces a provisional expiry (from
    /// a message) but never shortens an exact one: the store only lengthens its keys, so a shorter answer comes from a
    /// stale node or from someone who shortened the key, and must not end a revocation early.
    /// </summary>
    public bool Add(RevocationKind kind, string identifier, DateTimeOffset expiresAt)
    {
        var now = clock.GetUtcNow();
        return expiresAt <= now || Put(Map(kind), identifier, old => old is { Exact: true } o && o.ExpiresAt > expiresAt
            ? o with { ObservedAt = now }
            : new Entry(expiresAt, now, HeldSinceOr(old, now)), now);
    }

    /// <summary>
    /// A revocation heard of on pub/sub, enforced at once until the store's exact expiry replaces it (<see cref="Add"/>).
    /// An entry already known exactly is left as it is.
    /// </summary>
    public bool AddProvisional(RevocationKind kind, string identifier, DateTimeOffset expiresAt)
    {
        var now = clock.GetUtcNow();
        return expiresAt <= now || Put(Map(kind), identifier, old => old is { Exact: true } o && o.ExpiresAt > now
            ? o with { ObservedAt = now }
            : new Entry(expiresAt, now, HeldSinceOr(old, now), Exact: false), now);
    }

    /// <summary>
    /// Adds a store snapshot (scan begun at <paramref name="scanStartedAt"/>) to the cache and drops nothing: what every
    /// automatic resync (start, reconnect, failover) does. A node that lacks a revocation (a lagging replica, a deposed
    /// primary, a stale copy) can then never take one out of enforcement while its TTL runs; entries leave only when
    /// their TTL ends (<see cref="Sweep"/>). It never shortens an entry either.
    /// </summary>
    public void MergeWith(IReadOnlyDictionary<string, DateTimeOffset> tokens, IReadOnlyDictionary<string, DateTimeOffset> users, DateTimeOffset scanStartedAt) =>
        Apply(tokens, users, scanStartedAt, dropMissing: false);

    /// <summary>
    /// Makes the cache equal to a store snapshot taken by a scan that began at <paramref name="scanStartedAt"/>:
    /// adds what the store has, drops what it no longer has, but keeps entries heard of (pub/sub) after the scan began,
    /// which the scan may have missed. It never shortens an entry: a TTL the scan read can be older than a longer
    /// revocation heard of meanwhile (the store's expiries only grow). Only for the operator's explicit sync from a node
    /// confirmed as the primary (after revocations were deleted on purpose); every automatic resync merges.
    /// </summary>
    public void ReplaceWith(IReadOnlyDictionary<string, DateTimeOffset> tokens, IReadOnlyDictionary<string, DateTimeOffset> users, DateTimeOffset scanStartedAt) =>
        Apply(tokens, users, scanStartedAt, dropMissing: true);

    private void Apply(IReadOnlyDictionary<string, DateTimeOffset> tokens, IReadOnlyDictionary<string, DateTimeOffset> users, DateTimeOffset scanStartedAt, bool dropMissing)
    {
        var refusalBefore = Interlocked.Read(ref _lastRefusalTicks);
        Apply(_tokens, tokens, scanStartedAt, dropMissing);
        Apply(_users, users, scanStartedAt, dropMissing);
        // Everything refused before this scan began is in the snapshot; clear only if nothing was refused since.
        if (refusalBefore != 0 && refusalBefore < scanStartedAt.UtcTicks)
        {
            Interlocked.CompareExchange(ref _lastRefusalTicks, 0, refusalBefore);
        }
        PublishSize();
    }

    /// <summary>Drops entries whose TTL ended; returns how many. Also refreshes the size metrics (once a second).</summary>
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
                    Interlocked.Decrement(ref _count);
                    removed++;
                }
            }
        }
        PublishSize();
        return removed;
    }

    private void Apply(ConcurrentDictionary<string, Entry> map, IReadOnlyDictionary<string, DateTimeOffset> snapshot, DateTimeOffset scanStartedAt, bool dropMissing)
    {
        var now = clock.GetUtcNow();
        foreach (var (identifier, expiresAt) in snapshot)
        {
            if (expiresAt > now)
            {
                Put(map, identifier, old => new Entry(old is { } o && o.ExpiresAt > expiresAt ? o.ExpiresAt : expiresAt, now, HeldSinceOr(old, now)), now);
            }
        }
        if (!dropMissing)
        {
            return;
        }
        foreach (var (identifier, entry) in map)
        {
            if (!snapshot.ContainsKey(identifier) && entry.ObservedAt < scanStartedAt
                && map.TryRemove(new KeyValuePair<string, Entry>(identifier, entry)))
            {
                Interlocked.Decrement(ref _count);
            }
        }
    }

    /// <summary>Updates an entry, or adds it when there is room; a refusal marks the cache overflowed.</summary>
    private bool Put(ConcurrentDictionary<string, Entry> map, string identifier, Func<Entry?, Entry> next, DateTimeOffset now)
    {
        while (true)
        {
            if (map.TryGetValue(identifier, out var old))
            {
                if (map.TryUpdate(identifier, next(old), old))
                {
                    return true;
                }
                continue;
            }
            if (Interlocked.Increment(ref _count) > maxEntries)
            {
                Interlocked.Decrement(ref _count);
                Interlocked.Exchange(ref _lastRefusalTicks, Math.Max(now.UtcTicks, 1));
                DiveMetrics.RevocationCacheRefused.Inc();
                return false;
            }
            if (map.TryAdd(identifier, next(null)))
            {
                return true;
            }
            Interlocked.Decrement(ref _count);
        }
    }

    private static DateTimeOffset HeldSinceOr(Entry? old, DateTimeOffset now) =>
        old is { } entry && entry.ExpiresAt > now ? entry.HeldSince : now;

    private bool IsLive(ConcurrentDictionary<string, Entry> map, string identifier) =>
        map.TryGetValue(identifier, out var entry) && entry.ExpiresAt > clock.GetUtcNow();

    private ConcurrentDictionary<string, Entry> Map(RevocationKind kind) => kind == RevocationKind.Token ? _tokens : _users;

    private void PublishSize()
    {
        DiveMetrics.RevocationCacheSize.WithLabels("token").Set(_tokens.Count);
        DiveMetrics.RevocationCacheSize.WithLabels("user").Set(_users.Count);
        DiveMetrics.RevocationCacheFull.Set(Overflowed ? 1 : 0);
    }
}
