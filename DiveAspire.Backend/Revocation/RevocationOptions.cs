namespace DiveAspire.Backend.Revocation;

/// <summary>What a request with a token this backend knows nothing about gets while the shared store is unreachable.</summary>
public enum RevocationFailureMode
{
    /// <summary>Serve it: revocations known locally are still enforced (default; see README "Revocation failure mode").</summary>
    Open,

    /// <summary>Refuse it with 503 until the cache is synchronised with the store again.</summary>
    Closed,
}

/// <param name="FailureMode">See <see cref="RevocationFailureMode"/>.</param>
/// <param name="CheckRequests">
/// False only to measure the per-request check's cost (`./dive bench`): revocations are still written and
/// propagated, but requests are not checked. The backend warns loudly at start when it is off.
/// </param>
/// <param name="MaxTokenLifetime">
/// The longest a token of the federation may live (<c>Dive:Revocation:MaxTokenLifetime</c>, 24 h by default). A token
/// revocation never lasts longer than this (plus skew and margin), an admin's <c>exp</c> beyond it is a 400, and a
/// token whose exp lies further ahead is refused (it could outlive its own revocation).
/// </param>
/// <param name="CacheMaxEntries">Most entries the local revocation cache holds (<c>Dive:Revocation:CacheMaxEntries</c>).</param>
public sealed record RevocationOptions(
    RevocationFailureMode FailureMode, bool CheckRequests = true, TimeSpan? MaxTokenLifetimeSetting = null, int CacheMaxEntries = RevocationOptions.DefaultCacheMaxEntries)
{
    public const string FailureModeKey = "Dive:Revocation:FailureMode";
    public const string CheckKey = "Dive:Revocation:Check";
    public const string MaxTokenLifetimeKey = "Dive:Revocation:MaxTokenLifetime";
    public const string CacheMaxEntriesKey = "Dive:Revocation:CacheMaxEntries";
    public const int DefaultCacheMaxEntries = 1_000_000;
    public static readonly TimeSpan DefaultMaxTokenLifetime = TimeSpan.FromHours(24);

    public const string RelayKey = "Dive:Revocation:Relay";
    public const string AllowPlaintextRelayKey = "Dive:Revocation:AllowPlaintextRelay";

    public TimeSpan MaxTokenLifetime => MaxTokenLifetimeSetting ?? DefaultMaxTokenLifetime;

    /// <summary>
    /// The hub backend's URL when this backend is a spoke on another machine (<c>Dive:Revocation:Relay</c>, set by
    /// <c>./dive up --join</c>): its store user is read-only and its revocations go through the hub (<see cref="RevocationRelay"/>).
    /// </summary>
    public Uri? Relay { get; init; }

    public static RevocationOptions From(IConfiguration config)
    {
        var text = config[FailureModeKey];
        var mode = string.IsNullOrWhiteSpace(text)
            ? RevocationFailureMode.Open
            : text.Trim().ToLowerInvariant() switch
            {
                "open" => RevocationFailureMode.Open,
                "closed" => RevocationFailureMode.Closed,
                _ => throw new InvalidOperationException($"{FailureModeKey} must be 'open' or 'closed' (got '{text}')."),
            };
        var check = config[CheckKey]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "on" => true,
            "off" => false,
            var other => throw new InvalidOperationException($"{CheckKey} must be 'on' or 'off' (got '{other}')."),
        };
        TimeSpan? lifetime = config[MaxTokenLifetimeKey] is { Length: > 0 } lifetimeText ? ParseLifetime(lifetimeText) : null;
        var maxEntries = config[CacheMaxEntriesKey] is { Length: > 0 } entriesText
            ? int.TryParse(entriesText.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1
                ? n
                : throw new InvalidOperationException($"{CacheMaxEntriesKey} must be a whole number of at least 1 (got '{entriesText}').")
            : DefaultCacheMaxEntries;
        var allowPlaintext = string.Equals(config[AllowPlaintextRelayKey]?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
        return new(mode, check, lifetime, maxEntries) { Relay = config[RelayKey] is { Length: > 0 } relay ? ParseRelay(relay, allowPlaintext) : null };
    }

    /// <summary>
    /// The relay carries users' bearer tokens (an admin's too) to another machine: plain http only to this machine, or
    /// where <see cref="AllowPlaintextRelayKey"/> says the network itself is protected (VPN, a mesh's mTLS).
    /// </summary>
    private static Uri ParseRelay(string text, bool allowPlaintext)
    {
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.AbsolutePath != "/"
            || url.Query.Length > 0 || url.UserInfo.Length > 0)
        {
            throw new InvalidOperationException($"{RelayKey} must be the hub backend's http(s)://host:port URL, without path (got '{text}').");
        }
        if (IsPlaintextBeyondThisMachine(url) && !allowPlaintext)
        {
            throw new InvalidOperationException(
                $"{RelayKey} is plain http to another machine ({url.Host}): users' bearer tokens would cross the network unencrypted. " +
                $"Use https, or set {AllowPlaintextRelayKey}=true where a VPN or mesh protects the link.");
        }
        return url;
    }

    /// <summary>Whether a relay URL sends tokens unencrypted beyond this machine.</summary>
    public static bool IsPlaintextBeyondThisMachine(Uri url) =>
        url.Scheme == "http" && !url.IsLoopback;

    private static TimeSpan ParseLifetime(string text)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        if (long.TryParse(text.Trim(), System.Globalization.NumberStyles.None, culture, out var seconds) && seconds >= 60 && seconds <= 366L * 24 * 3600)
        {
            return TimeSpan.FromSeconds(seconds);
        }
        // A bare number is seconds only ("10" would parse as 10 days).
        if (text.Contains(':') && TimeSpan.TryParse(text.Trim(), culture, out var span) && span >= TimeSpan.FromMinutes(1) && span <= TimeSpan.FromDays(366))
        {
            return span;
        }
        throw new InvalidOperationException($"{MaxTokenLifetimeKey} must be seconds or d.hh:mm:ss from 1 minute to 366 days (got '{text}').");
    }
}
