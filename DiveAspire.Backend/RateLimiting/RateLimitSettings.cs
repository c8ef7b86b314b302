using System.Globalization;
using System.Net;

namespace DiveAspire.Backend.RateLimiting;

public sealed record LimitRule(int Max, TimeSpan Window);

/// <summary>
/// Where limits are kept. Only <see cref="Redis"/> is for real use: <see cref="Memory"/> (never Redis) and
/// <see cref="Off"/> (no limits) exist so `./dive bench` can measure the Redis limiter against them.
/// </summary>
public enum RateLimitStoreMode { Redis, Memory, Off }

/// <summary>
/// Limits per limiter type, read from <c>Dive:RateLimits:&lt;type&gt;:Max</c> / <c>:Window</c> (seconds or hh:mm:ss) with
/// the DIVE defaults, and the IP allow-list <c>Dive:RateLimits:AllowList</c> (comma separated). Bad values stop start-up.
/// </summary>
public sealed class RateLimitSettings
{
    public static readonly IReadOnlyDictionary<string, LimitRule> Defaults = new Dictionary<string, LimitRule>
    {
        [RateLimitPolicies.Api] = new(100, TimeSpan.FromMinutes(15)),
        [RateLimitPolicies.Auth] = new(5, TimeSpan.FromMinutes(15)),
        [RateLimitPolicies.Upload] = new(20, TimeSpan.FromHours(1)),
        [RateLimitPolicies.Admin] = new(50, TimeSpan.FromMinutes(15)),
        [RateLimitPolicies.Strict] = new(3, TimeSpan.FromHours(1)),
        [RateLimitPolicies.Revocation] = new(30, TimeSpan.FromMinutes(1)),
    };

    /// <summary>
    /// All revocations of one non-hub realm together (<c>Dive:RateLimits:revocation:RealmMax</c> / <c>:RealmWindow</c>): a
    /// realm's operator, who can mint tokens for any number of its users, cannot fill the noeviction shared store through
    /// the hub's API for everyone (review R2); only its own realm's revocations wait.
    /// </summary>
    public static readonly LimitRule DefaultRevocationRealm = new(120, TimeSpan.FromMinutes(1));

    public RateLimitSettings(IReadOnlyDictionary<string, LimitRule> rules, IReadOnlySet<IPAddress> allowList, RateLimitStoreMode mode = RateLimitStoreMode.Redis)
    {
        Rules = rules;
        AllowList = allowList;
        Mode = mode;
    }

    public LimitRule RevocationRealm { get; init; } = DefaultRevocationRealm;

    public RateLimitStoreMode Mode { get; }

    public IReadOnlyDictionary<string, LimitRule> Rules { get; }
    public IReadOnlySet<IPAddress> AllowList { get; }

    public LimitRule this[string type] => Rules[type];

    public static RateLimitSettings From(IConfiguration config)
    {
        var section = config.GetSection("Dive:RateLimits");
        var rules = new Dictionary<string, LimitRule>();
        foreach (var (type, rule) in Defaults)
        {
            var max = section[$"{type}:Max"] is { } maxText ? ParseMax(type, maxText) : rule.Max;
            var window = section[$"{type}:Window"] is { } windowText ? ParseWindow(type, windowText) : rule.Window;
            rules[type] = new LimitRule(max, window);
        }
        var allow = new HashSet<IPAddress>();
        foreach (var text in (section["AllowList"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            allow.Add(ClientAddress.TryParseStrict(text, out var ip)
                ? ip
                : throw new InvalidOperationException($"Dive:RateLimits:AllowList: '{text}' is not an IP address."));
        }
        var mode = section["Store"]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "redis" => RateLimitStoreMode.Redis,
            "memory" => RateLimitStoreMode.Memory,
            "off" => RateLimitStoreMode.Off,
            var other => throw new InvalidOperationException($"Dive:RateLimits:Store must be redis, memory or off (got '{other}')."),
        };
        var realm = new LimitRule(
            section[$"{RateLimitPolicies.Revocation}:RealmMax"] is { } realmMax ? ParseMax($"{RateLimitPolicies.Revocation}:Realm", realmMax) : DefaultRevocationRealm.Max,
            section[$"{RateLimitPolicies.Revocation}:RealmWindow"] is { } realmWindow ? ParseWindow($"{RateLimitPolicies.Revocation}:Realm", realmWindow) : DefaultRevocationRealm.Window);
        return new RateLimitSettings(rules, allow, mode) { RevocationRealm = realm };
    }

    private static int ParseMax(string type, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var max) && max >= 1
            ? max
            : throw new InvalidOperationException($"Dive:RateLimits:{type}:Max must be a whole number of at least 1 (got '{text}').");

    public static TimeSpan ParseWindow(string type, string text)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds >= 1)
        {
            return TimeSpan.FromSeconds(seconds);
        }
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.FromSeconds(1))
        {
            return span;
        }
        throw new InvalidOperationException($"Dive:RateLimits:{type}:Window must be seconds (e.g. 900) or hh:mm:ss of at least 1 s (got '{text}').");
    }
}
