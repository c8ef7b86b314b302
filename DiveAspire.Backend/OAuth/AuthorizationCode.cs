namespace DiveAspire.Backend.OAuth;

/// <summary>
/// What a code stands for; stored as JSON under <c>dive-v3:oauth:code:{code}</c>. CodeChallenge is the PKCE S256
/// challenge (required); SessionExpiresAt is the exp of the token that authorized the code, which no token minted
/// from it may outlive.
/// </summary>
public sealed record AuthorizationCode(
    string ClientId,
    string RedirectUri,
    string Scope,
    string CodeChallenge,
    string UserId,
    string Clearance,
    string Country,
    IReadOnlyList<string> Coi,
    DateTimeOffset IssuedAt,
    DateTimeOffset? SessionExpiresAt = null);

public enum ConsumeOutcome { Ok, NotFound, AlreadyUsed, WrongClient, RedirectMismatch, PkceFailed }
