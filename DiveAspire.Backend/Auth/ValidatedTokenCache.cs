using System.Security.Claims;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Backend.Auth;

/// <summary>
/// Remembers the tokens the inner handler validated, so the next request with the same token skips the signature,
/// parsing and claim building. A token is remembered until its exp, at most <see cref="MaxAge"/> (so a realm key
/// dropped by a rotation stops being trusted soon after), only when it was valid; every request still gets its own
/// copy of the identity (the realm is stamped on it per request) and the revocation check still runs per request.
/// <c>Dive:Auth:PrincipalCache=off</c> validates every time (the bench's baseline).
/// </summary>
public sealed class ValidatedTokenCache(TokenHandler inner, TimeProvider clock) : TokenHandler
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);
    public const int MaxTokens = 10_000;

    private readonly MemoryCache _validated = new(new MemoryCacheOptions { SizeLimit = MaxTokens });

    private sealed record Validated(ClaimsIdentity Identity, SecurityToken Token, string? Issuer, string? TokenType);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (_validated.TryGetValue(token, out Validated? hit) && hit is not null)
        {
            return new TokenValidationResult
            {
                IsValid = true,
                ClaimsIdentity = hit.Identity.Clone(),
                SecurityToken = hit.Token,
                Issuer = hit.Issuer,
                TokenType = hit.TokenType,
            };
        }
        var result = await inner.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is { } validated && result.ClaimsIdentity is { } identity)
        {
            var now = clock.GetUtcNow();
            var expires = new DateTimeOffset(DateTime.SpecifyKind(validated.ValidTo, DateTimeKind.Utc));
            var until = expires < now + MaxAge ? expires : now + MaxAge;
            if (until > now)
            {
                // A copy taken before the caller stamps the realm on the identity it got.
                _validated.Set(token, new Validated(identity.Clone(), validated, result.Issuer, result.TokenType),
                    new MemoryCacheEntryOptions { AbsoluteExpiration = until, Size = 1 });
            }
        }
        return result;
    }

    public override SecurityToken ReadToken(string token) => inner.ReadToken(token);
}
