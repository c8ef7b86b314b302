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
public sealed record RevocationOptions(RevocationFailureMode FailureMode, bool CheckRequests = true)
{
    public const string FailureModeKey = "Dive:Revocation:FailureMode";
    public const string CheckKey = "Dive:Revocation:Check";

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
        return new(mode, check);
    }
}
