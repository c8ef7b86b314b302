namespace DiveAspire.Cli.Operations;

/// <summary>
/// One client holding a rate-limit window: the backend keys it <c>dive-v3:rate-limit:{limiter}:{client}</c> where the
/// client is <c>{uniqueID}:{ip}</c> when authenticated, else <c>{ip}</c> (an IPv6 address has colons of its own).
/// </summary>
public sealed record RateLimitClient(string Limiter, string? User, string Ip, string Key)
{
    public const string KeyPrefix = "dive-v3:rate-limit:";

    public static RateLimitClient Parse(string limiter, string client)
    {
        var key = $"{KeyPrefix}{limiter}:{client}";
        if (IpAddressText.TryNormalize(client, out var anonymous))
        {
            return new(limiter, null, anonymous, key);
        }
        // The user is everything before the first colon whose remainder is an address (a uniqueID may hold colons).
        for (var colon = client.IndexOf(':'); colon > 0; colon = client.IndexOf(':', colon + 1))
        {
            if (IpAddressText.TryNormalize(client[(colon + 1)..], out var ip))
            {
                return new(limiter, client[..colon], ip, key);
            }
        }
        return new(limiter, client, "?", key);
    }

    public static IReadOnlyList<RateLimitClient> From(RateLimitReport report) =>
        (report.Clients ?? new Dictionary<string, IReadOnlyList<string>>())
            .OrderBy(l => l.Key, StringComparer.Ordinal)
            .SelectMany(l => l.Value.Select(client => Parse(l.Key, client)))
            .ToList();
}
