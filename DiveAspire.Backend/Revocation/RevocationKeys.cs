namespace DiveAspire.Backend.Revocation;

/// <summary>Key names, channels and TTL rules of the shared revocation store (compatible with the original DIVE V3).</summary>
public static class RevocationKeys
{
    public const string TokenPrefix = "blacklist:";
    public const string UserPrefix = "user-revoked:";
    public const string TokenChannel = "dive-v3:token-blacklist";
    public const string UserChannel = "dive-v3:user-revoked";
    public const string DefaultReason = "User logout";

    public static readonly TimeSpan MinimumTokenTtl = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultUserTtl = TimeSpan.FromSeconds(900);

    /// <summary>Longest a jti may be (bytes, UTF-8): bounds key size and rejects garbage early.</summary>
    public const int MaxIdentifierBytes = 512;

    public static string Token(string jti) => TokenPrefix + jti;
    public static string User(string userId) => UserPrefix + userId;
    public static string Key(RevocationKind kind, string identifier) => kind == RevocationKind.Token ? Token(identifier) : User(identifier);
    public static string Channel(RevocationKind kind) => kind == RevocationKind.Token ? TokenChannel : UserChannel;

    /// <summary>
    /// How long after its exp a token is still accepted: the JWT validation's ClockSkew (Auth/AuthenticationSetup.cs).
    /// A unit test keeps the two equal.
    /// </summary>
    public static readonly TimeSpan ValidationClockSkew = TimeSpan.FromSeconds(5);

    /// <summary>Extra time a token revocation outlives the token: clock differences between the instances' hosts.</summary>
    public static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A token stays blacklisted until it can no longer be accepted anywhere (exp + clock skew + margin), and at least
    /// 60 s (tokens without exp).
    /// </summary>
    public static TimeSpan TokenTtl(DateTimeOffset? tokenExpiresAt, DateTimeOffset now)
    {
        var remaining = (tokenExpiresAt ?? now) + ValidationClockSkew + ExpiryMargin - now;
        return remaining > MinimumTokenTtl ? remaining : MinimumTokenTtl;
    }
}

public enum RevocationKind { Token, User }
