using System.Collections.Concurrent;

namespace DiveAspire.Backend.Catalog;

/// <summary>
/// One state of the catalog (seed + the uploads of one read of the hash) and the GET /api/resources bodies already written
/// from it, per caller attributes: callers with the same clearance, country and COIs get the same bytes as long as the
/// catalog holds exactly the same entries (a changed hash is a new listing with no bodies).
/// </summary>
public sealed class CatalogListing(IReadOnlyList<Resource> resources, bool reuseBodies)
{
    /// <summary>Distinct attribute sets remembered per listing; beyond that a body is written for each request.</summary>
    public const int MaxBodies = 256;

    private readonly ConcurrentDictionary<string, byte[]>? _bodies = reuseBodies ? new(StringComparer.Ordinal) : null;

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
        if (_bodies.Count < MaxBodies)
        {
            _bodies.TryAdd(callerKey, body);
        }
        return body;
    }
}
