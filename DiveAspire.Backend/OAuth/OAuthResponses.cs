using System.Text.Json.Serialization;

namespace DiveAspire.Backend.OAuth;

// The JSON bodies of the OAuth endpoints: the authorize answer in camelCase, the token endpoint's in OAuth 2.0's
// snake_case (RFC 6749 5.1, 5.2).

public sealed record AuthorizeResponse(string Code, int ExpiresIn, string RedirectUri);

public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("scope")] string Scope);

public sealed record OAuthErrorBody(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string ErrorDescription);

/// <summary>The audit value written when a code is used (StoreJson: names as given here).</summary>
public sealed record AuthorizationCodeUse(
    [property: JsonPropertyName("usedAt")] DateTimeOffset UsedAt,
    [property: JsonPropertyName("clientId")] string ClientId);
