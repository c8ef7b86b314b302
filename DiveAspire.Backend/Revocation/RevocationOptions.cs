namespace DiveAspire.Backend.Revocation;

/// <summary>What a request with a token this backend knows nothing about gets while the shared store is unreachable.</summary>
public enum RevocationFailureMode
{
    /// <summary>Serve it: revocations known locally are still enforced (default; see README "Revocation failure mode").</summary>
    Open,

    /// <summary>Refuse it with 503 until the cache is synchronised with the store again.</summary>
    Closed,
}

public sealed record RevocationOptions(RevocationFailureMode FailureMode)
{
    public const string FailureModeKey = "Dive:Revocation:FailureMode";

    public static RevocationOptions From(IConfiguration config)
    {
        var text = config[FailureModeKey];
        if (string.IsNullOrWhiteSpace(text))
        {
            return new(RevocationFailureMode.Open);
        }
        return text.Trim().ToLowerInvariant() switch
        {
            "open" => new(RevocationFailureMode.Open),
            "closed" => new(RevocationFailureMode.Closed),
            _ => throw new InvalidOperationException($"{FailureModeKey} must be 'open' or 'closed' (got '{text}')."),
        };
    }
}
