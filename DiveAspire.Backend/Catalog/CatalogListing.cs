using System.Collections.Concurrent;

namespace DiveAspire.Backend.Catalog;

/// <summary>
/// One state of the catalog (seed + the uploads of one read of the hash) and the GET /api/resources bodies already written
/// from it, per caller attributes: callers with the same clearance, country and COIs get the same bytes as long as the
/// catalog holds exactly the same entries (a changed hash is a new listing with no bodies). The bodies kept are bounded in
/// number and in bytes (the catalog has no size limit: 256 bodies of a large catalog would be hundreds of MB).
/// </summary>
public sealed class CatalogListing(IReadOnlyList<Resource> resources, bool reuseBodies, long maxBytes = CatalogListing.MaxBytes)
{
    /// <summary>Distinct attribute sets remembered per listing; beyond that a body is written for each request.</summary>
    public const int MaxBodies = 256;

    /// <summary>Bytes of bodies remembered per listing; a body that would go beyond is written for each request.</summary>
    public const long MaxBytes = 4 * 1024 * 1024;

    private readonly ConcurrentDictionary<string, byte[]>? _bodies = reuseBodies ? new(StringComparer.Ordinal) : null;
    private long _bytes;

    /// <summary>Bytes of the bodies remembered so far.</summary>
    public long BodyBytes => Interlocked.Read(ref _bytes);

    public IReadOnlyList<Resource> Resources => resources;

    /// <summary>The body for <paramref name="callerKey"/> (every input of the body, see <see cref="ResourceEndpoints"/>), written once.</summary>
    public byte[] Body<TState>(string callerKey, TState state, Func<IReadOnlyList<Resource>, TState, byte[]> write)
    {
        if (_bodies is null)
        {
            return write(resources, state);
        }
        if (_bodies.TryGetValue(callerKey, out var body))
        {
            return body;
        }
        body = write(resources, state);
        if (_bodies.Count < MaxBodies && Reserve(body.Length) && !_bodies.TryAdd(callerKey, body))
        {
            // Another request of the same caller key added its body first.
            Interlocked.Add(ref _bytes, -body.Length);
        }
        return body;
    }

    private bool Reserve(int length)
    {
        if (Interlocked.Add(ref _bytes, length) <= maxBytes)
        {
            return true;
        }
        Interlocked.Add(ref _bytes, -length);
        return false;
    }
}
