using System.Globalization;

namespace DiveAspire.Cli.Operations;

/// <summary>The fields of one <c>INFO</c> reply (<c>name:value</c> lines), with typed accessors.</summary>
public sealed class RedisInfo(IReadOnlyDictionary<string, string> fields)
{
    public static RedisInfo Parse(string raw)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in raw.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(':');
            if (!line.StartsWith('#') && colon > 0)
            {
                fields[line[..colon]] = line[(colon + 1)..];
            }
        }
        return new RedisInfo(fields);
    }

    public string? String(string name) => fields.TryGetValue(name, out var value) ? value : null;

    public long Long(string name) =>
        fields.TryGetValue(name, out var value) && long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : 0;

    public double Double(string name) =>
        fields.TryGetValue(name, out var value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : 0;

    /// <summary>Keys in every database, from the keyspace lines <c>db0:keys=3,expires=0,avg_ttl=0</c>.</summary>
    public long Keys => fields
        .Where(f => f.Key.StartsWith("db", StringComparison.Ordinal) && int.TryParse(f.Key.AsSpan(2), out _))
        .Sum(f => f.Value.Split(',').Select(p => p.Split('=')).Where(p => p.Length == 2 && p[0] == "keys")
            .Select(p => long.Parse(p[1], CultureInfo.InvariantCulture)).FirstOrDefault());
}
