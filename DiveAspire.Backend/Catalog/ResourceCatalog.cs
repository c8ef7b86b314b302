using System.Text.Json;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Redis;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Backend.Catalog;

/// <summary>
/// This instance's documents: a fixed seed (one per classification, ids like <c>ROU-NATO_SECRET-001</c>) plus uploads kept
/// in the instance's Redis hash <c>dive-v3:resources</c>, so every replica sees them. Without Redis the seed still answers.
/// </summary>
public sealed class ResourceCatalog(RedisStores redis, InstanceInfo instance, ILogger<ResourceCatalog> logger)
{
    public const string UploadsKey = "dive-v3:resources";

    public static readonly string[] Classifications =
    [
        "UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP_SECRET",
        "NATO_UNCLASSIFIED", "NATO_RESTRICTED", "NATO_CONFIDENTIAL", "NATO_SECRET", "COSMIC_TOP_SECRET",
    ];

    private readonly IReadOnlyList<Resource> _seed = Seed(instance);

    /// <summary>One document per classification, releasable to the whole federation; the NATO ones need the NATO COI.</summary>
    public static IReadOnlyList<Resource> Seed(InstanceInfo instance) => [.. Classifications.Select(c => new Resource(
        $"{instance.Code}-{c}-001",
        $"{NatoCatalog.Get(instance.Code).Name} {c.Replace('_', ' ').ToLowerInvariant()} report",
        c,
        instance.Federation,
        c.StartsWith("NATO", StringComparison.Ordinal) || c.StartsWith("COSMIC", StringComparison.Ordinal) ? ["NATO"] : [],
        instance.Code))];

    public async Task<IReadOnlyList<Resource>> AllAsync()
    {
        var uploads = new List<Resource>();
        try
        {
            foreach (var entry in await redis.Cache.GetDatabase().HashGetAllAsync(UploadsKey).WaitAsync(TimeSpan.FromSeconds(2)))
            {
                if (JsonSerializer.Deserialize<Resource>(entry.Value.ToString()) is { } resource)
                {
                    uploads.Add(resource);
                }
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogDebug("Uploaded resources not readable: {Reason}", ex.GetType().Name);
        }
        // Hash order is arbitrary: uploads sorted by id keep the listing stable.
        return [.. _seed.Where(s => uploads.All(u => u.ResourceId != s.ResourceId)), .. uploads.OrderBy(u => u.ResourceId, StringComparer.Ordinal)];
    }

    public async Task<Resource?> FindAsync(string resourceId) =>
        (await AllAsync()).FirstOrDefault(r => string.Equals(r.ResourceId, resourceId, StringComparison.OrdinalIgnoreCase));

    public async Task<IReadOnlyList<Resource>> SearchAsync(string query) =>
        [.. (await AllAsync()).Where(r => r.Title.Contains(query, StringComparison.OrdinalIgnoreCase)
            || r.ResourceId.Contains(query, StringComparison.OrdinalIgnoreCase))];

    public Task SaveAsync(Resource resource) =>
        redis.Cache.GetDatabase().HashSetAsync(UploadsKey, resource.ResourceId, JsonSerializer.Serialize(resource));
}
