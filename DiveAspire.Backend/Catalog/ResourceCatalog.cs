using System.Text.Json;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.RateLimiting;
using DiveAspire.Backend.Redis;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Backend.Catalog;

/// <summary>
/// This instance's documents: a fixed seed (one per classification, ids like <c>ROU-NATO_SECRET-001</c>) plus uploads kept
/// in the instance's Redis hash <c>dive-v3:resources</c>, so every replica sees them. Without Redis the seed still answers.
/// Every read fetches the hash (whoever wrote it: an upload on another replica, or any other writer, is seen at once);
/// what is reused is the parsed listing and the response bodies written from it (<see cref="CatalogListing"/>), as long as
/// the hash holds exactly the entries it was parsed from (<c>Dive:Catalog:Cache=off</c> parses and writes every time: the
/// bench's baseline).
/// </summary>
public sealed class ResourceCatalog(RedisStores redis, InstanceInfo instance, IConfiguration config, ILogger<ResourceCatalog> logger)
{
    public const string UploadsKey = "dive-v3:resources";

    public static readonly string[] Classifications =
    [
        "UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP_SECRET",
        "NATO_UNCLASSIFIED", "NATO_RESTRICTED", "NATO_CONFIDENTIAL", "NATO_SECRET", "COSMIC_TOP_SECRET",
    ];

    private readonly IReadOnlyList<Resource> _seed = Seed(instance);
    private readonly bool _reuseParsed = !string.Equals(config["Dive:Catalog:Cache"], "off", StringComparison.OrdinalIgnoreCase);

    /// <summary><c>Dive:Catalog:Cache=parsed</c> reuses the parsed listing but writes every body (the bench's baseline for body reuse).</summary>
    private readonly bool _reuseBodies = config["Dive:Catalog:Cache"]?.Trim().ToLowerInvariant() is not ("off" or "parsed");

    /// <summary>The last hash read and the listing parsed from it.</summary>
    private sealed record Parsed(HashEntry[] Entries, CatalogListing Listing);

    private volatile Parsed? _parsed;

    /// <summary>Bounds the read without a timer per request (<see cref="SharedDeadline"/>).</summary>
    private readonly SharedDeadline _readDeadline = new(TimeSpan.FromSeconds(2));
    private CatalogListing? _seedListing;

    /// <summary>One document per classification, releasable to the whole federation; the NATO ones need the NATO COI.</summary>
    public static IReadOnlyList<Resource> Seed(InstanceInfo instance) => [.. Classifications.Select(c => new Resource(
        $"{instance.Code}-{c}-001",
        $"{NatoCatalog.Get(instance.Code).Name} {c.Replace('_', ' ').ToLowerInvariant()} report",
        c,
        instance.Federation,
        c.StartsWith("NATO", StringComparison.Ordinal) || c.StartsWith("COSMIC", StringComparison.Ordinal) ? ["NATO"] : [],
        instance.Code))];

    public async Task<IReadOnlyList<Resource>> AllAsync() => (await ListingAsync(ReadUploadsAsync())).Resources;

    /// <summary>
    /// Reads the uploads hash (HGETALL); null when Redis cannot be read (the seed answers alone). Started separately from
    /// <see cref="ListingAsync"/> so that GET /api/resources can send it before the rate limiter's script (see <see cref="CatalogPrefetch"/>).
    /// </summary>
    public async Task<HashEntry[]?> ReadUploadsAsync()
    {
        try
        {
            var read = redis.Cache.GetDatabase().HashGetAllAsync(UploadsKey);
            if (!read.IsCompleted && await Task.WhenAny(read, _readDeadline.Current) != read)
            {
                throw new TimeoutException("the uploads were not read within 2 s");
            }
            return await read;
        }
        catch (Exception ex) when (RateLimitStore.IsRedisFailure(ex))
        {
            logger.LogDebug("Uploaded resources not readable: {Reason}", ex.GetType().Name);
            return null;
        }
    }

    /// <summary>The listing for what <paramref name="read"/> returned: the last one again while the hash holds exactly the same entries.</summary>
    public async Task<CatalogListing> ListingAsync(Task<HashEntry[]?> read)
    {
        if (await read is not { } entries)
        {
            return _seedListing ??= new CatalogListing(_seed, _reuseBodies);
        }
        if (_reuseParsed && _parsed is { } last && SameEntries(last.Entries, entries))
        {
            return last.Listing;
        }
        var uploads = new List<Resource>(entries.Length);
        foreach (var entry in entries)
        {
            if (JsonSerializer.Deserialize(entry.Value.ToString(), StoreJson.Default.Resource) is { } resource)
            {
                uploads.Add(resource);
            }
        }
        // Hash order is arbitrary: uploads sorted by id keep the listing stable.
        IReadOnlyList<Resource> all = [.. _seed.Where(s => uploads.All(u => u.ResourceId != s.ResourceId)), .. uploads.OrderBy(u => u.ResourceId, StringComparer.Ordinal)];
        var listing = new CatalogListing(all, _reuseBodies);
        _parsed = new Parsed(entries, listing);
        return listing;
    }

    /// <summary>
    /// The same fields with the same values, byte for byte (in the same order; another order only costs a parse).
    /// Not RedisValue's <c>==</c>: it first tries to read both sides as numbers (2 % of a request's CPU here), and
    /// then takes "7" and "007" for the same field.
    /// </summary>
    private static bool SameEntries(HashEntry[] a, HashEntry[] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }
        for (var i = 0; i < a.Length; i++)
        {
            if (!SameBytes(a[i].Name, b[i].Name) || !SameBytes(a[i].Value, b[i].Value))
            {
                return false;
            }
        }
        return true;
    }

    private static bool SameBytes(RedisValue a, RedisValue b) => ((ReadOnlyMemory<byte>)a).Span.SequenceEqual(((ReadOnlyMemory<byte>)b).Span);

    public async Task<Resource?> FindAsync(string resourceId) =>
        (await AllAsync()).FirstOrDefault(r => string.Equals(r.ResourceId, resourceId, StringComparison.OrdinalIgnoreCase));

    public async Task<IReadOnlyList<Resource>> SearchAsync(string query) =>
        [.. (await AllAsync()).Where(r => r.Title.Contains(query, StringComparison.OrdinalIgnoreCase)
            || r.ResourceId.Contains(query, StringComparison.OrdinalIgnoreCase))];

    public Task SaveAsync(Resource resource) =>
        redis.Cache.GetDatabase().HashSetAsync(UploadsKey, resource.ResourceId, JsonSerializer.Serialize(resource, StoreJson.Default.Resource));
}
