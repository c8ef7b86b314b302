namespace DiveAspire.Backend.OAuth;

/// <summary>What a code stands for; stored as JSON under <c>dive-v3:oauth:code:{code}</c>. CodeChallenge is "" without PKCE.</summary>
public sealed record AuthorizationCode(
    string ClientId,
    string RedirectUri,
    string Scope,
    string CodeChallenge,
    string UserId,
    string Clearance,
    string Country,
    IReadOnlyList<string> Coi,
    DateTimeOffset IssuedAt);

public enum ConsumeOutcome { Ok, NotFound, AlreadyUsed, WrongClient, RedirectMismatch, PkceFailed }
