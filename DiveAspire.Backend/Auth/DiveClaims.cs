using System.Security.Claims;

namespace DiveAspire.Backend.Auth;

/// <summary>The DIVE token claims and how a user is identified (uniqueID, else preferred_username, else sub).</summary>
public static class DiveClaims
{
    public const string Subject = "sub";
    public const string TokenId = "jti";
    public const string Expires = "exp";
    public const string UniqueId = "uniqueID";
    public const string PreferredUsername = "preferred_username";
    public const string ClearanceClaim = "clearance";
    public const string Country = "countryOfAffiliation";
    public const string Coi = "acpCOI";
    public const string Roles = "roles";

    /// <summary>Realm role that admin endpoints (stats, sync, rate-limit reset) require.</summary>
    public const string AdminRole = "dive-admin";

    public static string? UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue(UniqueId) ?? user.FindFirstValue(PreferredUsername) ?? user.FindFirstValue(Subject);

    public static string? Jti(this ClaimsPrincipal user) => user.FindFirstValue(TokenId);

    public static DateTimeOffset? ExpiresAt(this ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(Expires), out var exp) ? DateTimeOffset.FromUnixTimeSeconds(exp) : null;

    public static string Clearance(this ClaimsPrincipal user) => user.FindFirstValue(ClearanceClaim) ?? "UNCLASSIFIED";

    public static string? CountryOfAffiliation(this ClaimsPrincipal user) => user.FindFirstValue(Country);

    public static bool IsAdmin(this ClaimsPrincipal user) => user.FindAll(Roles).Any(r => r.Value == AdminRole);

    public static IReadOnlyList<string> Cois(this ClaimsPrincipal user) => user.FindAll(Coi).Select(c => c.Value).ToList();
}
