using DiveAspire.Backend.Validation;

namespace DiveAspire.Backend.OAuth;

/// <summary>
/// Which redirect URIs a client may ask for: an absolute https URI without user info or fragment (RFC 6749 3.1.2,
/// RFC 9700 2.1), or one listed exactly in <c>Dive:OAuth:AllowedRedirectUris</c> (how an operator allows, say,
/// http://localhost:3000/callback for a development front end). javascript:, data:, file: and relative URIs never pass.
/// </summary>
public sealed class RedirectUriPolicy(IReadOnlySet<string> allowed)
{
    public const int MaxLength = 2048;

    public static RedirectUriPolicy From(IConfiguration config) => new(
        config.GetSection("Dive:OAuth:AllowedRedirectUris").Get<string[]>()?.ToHashSet(StringComparer.Ordinal) ?? []);

    /// <summary>Why <paramref name="redirectUri"/> is refused, else null.</summary>
    public string? Problem(string? redirectUri)
    {
        const string Rule = "redirectUri must be an absolute https URI without user info or fragment (or one the operator allows)";
        if (string.IsNullOrEmpty(redirectUri) || redirectUri.Length > MaxLength || SafeText.Problem(redirectUri) is not null)
        {
            return Rule;
        }
        if (allowed.Contains(redirectUri))
        {
            return null;
        }
        return Uri.TryCreate(redirectUri, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && uri.Host.Length > 0
            && uri.UserInfo.Length == 0 && uri.Fragment.Length == 0 && !redirectUri.Contains('#')
            ? null
            : Rule;
    }
}
