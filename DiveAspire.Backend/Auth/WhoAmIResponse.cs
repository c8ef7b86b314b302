namespace DiveAspire.Backend.Auth;

/// <summary>The body of GET /api/auth/whoami: who the backend takes the caller for.</summary>
public sealed record WhoAmIResponse(
    string? User, string? Realm, string? Jti, string Clearance, string? Country, IReadOnlyList<string> Coi, string? Issuer, string Instance);
