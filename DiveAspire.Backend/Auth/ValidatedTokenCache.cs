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
public sealed class ValidatedTokenCache : TokenHandler
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The budget is in token characters, not tokens: each entry holds the token (key), its parsed form and an identity,
    /// a few times the token's size, so 2 M characters stay within tens of MB even with tokens at the 16 KB size limit
    /// (2,000 typical 1 KB tokens). A full cache validates the next token as if there were no cache.
    /// </summary>
    public const long MaxCachedCharacters = 2_000_000;

    private readonly TokenHandler _inner;
    private readonly TimeProvider _clock;
    private readonly MemoryCache _validated;

    public ValidatedTokenCache(TokenHandler inner, TimeProvider clock, long maxCachedCharacters = MaxCachedCharacters)
    {
        _inner = inner;
        _clock = clock;
        _validated = new MemoryCache(new MemoryCacheOptions { SizeLimit = maxCachedCharacters });
    }

    /// <summary>How many tokens are remembered (for tests and diagnostics).</summary>
    public int Count => _validated.Count;

    private sealed record Validated(ClaimsIdentity Identity, SecurityToken Token, string? Issuer, string? TokenType);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (_validated.TryGetValue(token, out Validated? hit) && hit is not null)
        {
            // A copy per request (about 1 KB of claims): the realm stamp removes and adds claims in place, and a shared
            // identity would be stamped by concurrent requests at once (a List<Claim> is not thread-safe) and carry one
            // request's changes into the next.
            return new TokenValidationResult
            {
                IsValid = true,
                ClaimsIdentity = hit.Identity.Clone(),
                SecurityToken = hit.Token,
                Issuer = hit.Issuer,
                TokenType = hit.TokenType,
            };
        }
        var result = await _inner.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is { } validated && result.ClaimsIdentity is { } identity)
        {
            var now = _clock.GetUtcNow();
            var expires = new DateTimeOffset(DateTime.SpecifyKind(validated.ValidTo, DateTimeKind.Utc));
            var until = expires < now + MaxAge ? expires : now + MaxAge;
            if (until > now)
            {
                // A copy taken before the caller stamps the realm on the identity it got.
                _validated.Set(token, new Validated(identity.Clone(), validated, result.Issuer, result.TokenType),
                    new MemoryCacheEntryOptions { AbsoluteExpiration = until, Size = token.Length });
            }
        }
        return result;
    }

    public override SecurityToken ReadToken(string token) => _inner.ReadToken(token);
}
