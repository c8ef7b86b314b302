using System.Text.Json;
using System.Text.RegularExpressions;

namespace DiveAspire.Topology;

/// <summary>Reads <c>instances/&lt;code&gt;/instance.json</c> files; every error names the file and the field.</summary>
public static partial class InstanceLoader
{
    public const string FileName = "instance.json";

    private static readonly string[] KnownFields = ["code", "role", "redis"];
    private static readonly string[] KnownRedisFields = ["maxmemory", "maxmemoryPolicy"];
    private static readonly string[] EvictionPolicies =
    [
        "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
        "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
    ];

    public static IReadOnlyList<InstanceDefinition> LoadAll(string instancesDirectory)
    {
        if (!Directory.Exists(instancesDirectory))
        {
            throw new TopologyException($"Instances directory '{instancesDirectory}' does not exist.");
        }
        var result = new List<InstanceDefinition>();
        foreach (var dir in Directory.GetDirectories(instancesDirectory).Order(StringComparer.Ordinal))
        {
            var file = Path.Combine(dir, FileName);
            if (!File.Exists(file))
            {
                throw new TopologyException($"{Display(file)}: file is missing (every folder in instances/ is one instance).");
            }
            result.Add(LoadFile(file));
        }
        return result;
    }

    public static InstanceDefinition LoadFile(string file)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new TopologyException($"{Display(file)}: not valid JSON ({ex.Message.Split(" Path:")[0]})");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error(file, "(root)", "must be a JSON object");
            }
            RejectUnknown(file, root, KnownFields, "");

            var code = RequiredString(file, root, "code");
            if (!NatoCatalog.TryGet(code, out var country))
            {
                throw Error(file, "code", $"'{code}' is not a known instance code. Valid codes: {string.Join(", ", NatoCatalog.Codes)}");
            }
            var folder = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(file)));
            if (!string.Equals(folder, country.Code, StringComparison.OrdinalIgnoreCase))
            {
                throw Error(file, "code", $"'{country.Code}' does not match its folder name '{folder}'");
            }

            var roleText = RequiredString(file, root, "role");
            var role = roleText.ToLowerInvariant() switch
            {
                "hub" => InstanceRole.Hub,
                "spoke" => InstanceRole.Spoke,
                _ => throw Error(file, "role", $"must be 'hub' or 'spoke' (got '{roleText}')"),
            };

            return new InstanceDefinition(country, role, ReadRedis(file, root), Path.GetDirectoryName(Path.GetFullPath(file))!);
        }
    }

    private static RedisOverrides ReadRedis(string file, JsonElement root)
    {
        if (!root.TryGetProperty("redis", out var redis))
        {
            return RedisOverrides.None;
        }
        if (redis.ValueKind != JsonValueKind.Object)
        {
            throw Error(file, "redis", "must be an object");
        }
        RejectUnknown(file, redis, KnownRedisFields, "redis.");

        string? maxMemory = OptionalString(file, redis, "maxmemory", "redis.maxmemory");
        if (maxMemory is not null && !MemorySize().IsMatch(maxMemory))
        {
            throw Error(file, "redis.maxmemory", $"'{maxMemory}' is not a Redis memory size such as 256mb or 1gb");
        }
        string? policy = OptionalString(file, redis, "maxmemoryPolicy", "redis.maxmemoryPolicy");
        if (policy is not null && !EvictionPolicies.Contains(policy))
        {
            throw Error(file, "redis.maxmemoryPolicy", $"'{policy}' is not one of {string.Join(", ", EvictionPolicies)}");
        }
        return new RedisOverrides(maxMemory?.ToLowerInvariant(), policy);
    }

    private static string RequiredString(string file, JsonElement obj, string field)
    {
        if (!obj.TryGetProperty(field, out var value))
        {
            throw Error(file, field, "is required");
        }
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            throw Error(file, field, "must be a non-empty string");
        }
        return value.GetString()!.Trim();
    }

    private static string? OptionalString(string file, JsonElement obj, string field, string path)
    {
        if (!obj.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            throw Error(file, path, "must be a non-empty string");
        }
        return value.GetString()!.Trim();
    }

    private static void RejectUnknown(string file, JsonElement obj, string[] known, string prefix)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (!known.Contains(property.Name, StringComparer.Ordinal))
            {
                throw Error(file, prefix + property.Name, $"is not a known field (known: {string.Join(", ", known.Select(k => prefix + k))})");
            }
        }
    }

    private static TopologyException Error(string file, string field, string message) =>
        new($"{Display(file)}: field '{field}' {message}.");

    private static string Display(string file)
    {
        var full = Path.GetFullPath(file);
        var parent = Path.GetDirectoryName(Path.GetDirectoryName(full));
        return parent is null ? full : Path.Combine(Path.GetFileName(parent), Path.GetRelativePath(parent, full));
    }

    [GeneratedRegex("^[0-9]+(b|k|kb|m|mb|g|gb)?$", RegexOptions.IgnoreCase)]
    private static partial Regex MemorySize();
}
