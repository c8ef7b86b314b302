namespace DiveAspire.Backend.Revocation;

// The JSON bodies of the revocation endpoints (camelCase on the wire: WireJson).

public sealed record CheckBlacklistResponse(string Jti, bool Blacklisted, DateTimeOffset? RejectedHereSince);

public sealed record SyncResponse(string Instance, int Tokens, int Users);

public sealed record LogoutResponse(
    string Message, string? Jti, string User, string Instance, DateTimeOffset RevokedAt, DateTimeOffset? TokenRevokedUntil, DateTimeOffset UserRevokedUntil);

public sealed record UserRevokedResponse(
    bool Revoked, string Type, string UniqueID, string Realm, DateTimeOffset RevokedAt, DateTimeOffset ExpiresAt, string Reason, string RevokedByInstance);

public sealed record TokenBlacklistedResponse(
    bool Blacklisted, string Jti, DateTimeOffset RevokedAt, DateTimeOffset ExpiresAt, string Reason, string RevokedByInstance);

public sealed record BlacklistCheckResponse(string Jti, bool IsBlacklisted);

public sealed record RevocationCounts(int Tokens, int Users);

public sealed record SubscriptionState(bool Live, bool Synchronised, DateTimeOffset? LastSync);

public sealed record BlacklistStatsResponse(
    string Instance, bool StoreReachable, RevocationCounts? Store, RevocationCounts Local, SubscriptionState Subscription, string FailureMode,
    string[] KeyPatterns);
