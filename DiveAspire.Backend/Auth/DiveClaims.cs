using System.Security.Claims;

namespace DiveAspire.Backend.Auth;

/// <summary>
/// The DIVE token claims and who the caller is. Identity is (realm, subject): the realm is the instance whose issuer
/// validated the token (<see cref="RealmIdentity"/> stamps it, never a claim the token chooses), the subject is uniqueID,
/// else preferred_username, else sub.
/// </summary>
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

    /// <summary>Set by the backend after validation (a token carrying these claims has them removed first).</summary>
    public const string RealmClaim = "dive.realm";
    public const string UserKeyClaim = "dive.user";
    public const string HubRealmClaim = "dive.hub-realm";

    /// <summary>Realm role that admin endpoints (stats, sync, rate-limit reset) require.</summary>
    public const string AdminRole = "dive-admin";

    /// <summary>
    /// The key of the caller's state everywhere (revocation, rate limits, decision cache, OTP, OAuth codes):
    /// <see cref="UserKey"/> of (realm, subject). Null for a principal the backend did not authenticate.
    /// </summary>
    public static string? UserId(this ClaimsPrincipal user) => user.FindFirstValue(UserKeyClaim);

    /// <summary>The subject as its realm names it (uniqueID, else preferred_username, else sub): unique within that realm only.</summary>
    public static string? SubjectId(this ClaimsPrincipal user) =>
        user.FindFirstValue(UniqueId) ?? user.FindFirstValue(PreferredUsername) ?? user.FindFirstValue(Subject);

    /// <summary>The instance code (ISO3) of the realm that issued the validated token.</summary>
    public static string? Realm(this ClaimsPrincipal user) => user.FindFirstValue(RealmClaim);

    public static bool IsHubRealm(this ClaimsPrincipal user) => user.FindFirstValue(HubRealmClaim) == "true";

    /// <summary>
    /// Hub-realm users keep the original unqualified key (<c>user-revoked:{uniqueID}</c>); users of a spoke realm, and
    /// hub users whose id contains ':', are <c>{REALM}:{subject}</c>. Unqualified keys never contain ':', qualified ones
    /// start with their realm, so two different (realm, subject) pairs never share a key.
    /// </summary>
    public static string UserKey(string realm, bool hubRealm, string subject) =>
        hubRealm && !subject.Contains(':') ? subject : $"{realm}:{subject}";

    /// <summary>The realm a <see cref="UserKey"/> belongs to (<paramref name="hubRealm"/> when unqualified) and its subject.</summary>
    public static (string Realm, string Subject) ParseUserKey(string key, string hubRealm)
    {
        var separator = key.IndexOf(':');
        return separator < 0 ? (hubRealm, key) : (key[..separator], key[(separator + 1)..]);
    }

    public static string? Jti(this ClaimsPrincipal user) => user.FindFirstValue(TokenId);

    public static DateTimeOffset? ExpiresAt(this ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(Expires), out var exp) ? DateTimeOffset.FromUnixTimeSeconds(exp) : null;

    public static string Clearance(this ClaimsPrincipal user) => user.FindFirstValue(ClearanceClaim) ?? "UNCLASSIFIED";

    public static string? CountryOfAffiliation(this ClaimsPrincipal user) => user.FindFirstValue(Country);

    /// <summary>Has the dive-admin role in its own realm (what it may administer: <see cref="IsAdminOf"/>).</summary>
    public static bool IsAdmin(this ClaimsPrincipal user) => user.FindAll(Roles).Any(r => r.Value == AdminRole);

    /// <summary>An admin of the hub realm, the federation's broker: may act on every instance and every realm's users.</summary>
    public static bool IsFederationAdmin(this ClaimsPrincipal user) => user.IsAdmin() && user.IsHubRealm();

    /// <summary>May administer <paramref name="instanceCode"/>'s backend and users of that realm: its own realm's admin, or the hub's.</summary>
    public static bool IsAdminOf(this ClaimsPrincipal user, string instanceCode) =>
        user.IsAdmin() && (user.IsHubRealm() || string.Equals(user.Realm(), instanceCode, StringComparison.OrdinalIgnoreCase));

    public static IReadOnlyList<string> Cois(this ClaimsPrincipal user) => user.FindAll(Coi).Select(c => c.Value).ToList();
}
