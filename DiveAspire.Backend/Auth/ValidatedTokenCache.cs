using System.Security.Claims;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Backend.Auth;

/// <summary>
/// Remembers the tokens the inner handler validated, so the next request with the same token skips the signature,
/// parsing and claim building. A token is remembered until its exp, at most <see cref="MaxAge"/> (so a realm key
/// dropped by a rotation stops being trusted soon after), only when it was valid; the revocation check still runs per
/// request. Until the first request with a token has had the realm stamped on its identity, each request gets its own
/// copy to stamp; from then on every request shares the stamped identity (<see cref="StampedIdentity"/>, never changed
/// again), so neither the claims nor the stamp are built again per request.
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

    /// <summary>Whether <paramref name="token"/> is remembered as valid (until its exp, at most <see cref="MaxAge"/>).</summary>
    public bool Remembers(string token) => _validated.TryGetValue(token, out _);

    /// <summary>Whether one of <paramref name="handlers"/> is a cache that remembers <paramref name="token"/> (per request: no LINQ).</summary>
    public static bool AnyRemembers(IList<TokenHandler> handlers, string token)
    {
        for (var i = 0; i < handlers.Count; i++)
        {
            if (handlers[i] is ValidatedTokenCache cache && cache.Remembers(token))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>How many tokens are remembered (for tests and diagnostics).</summary>
    public int Count => _validated.Count;

    private sealed record Validated(ClaimsIdentity Identity, SecurityToken Token, string? Issuer, string? TokenType)
    {
        public volatile StampedIdentity? Stamped;
    }

    /// <summary>
    /// An identity whose realm was stamped once and which nothing changes any more: shared by every request with its token.
    /// Its claim lookups are exact-case, as those of the identity the token handler builds.
    /// </summary>
    public sealed class StampedIdentity(ClaimsIdentity stamped) : CaseSensitiveClaimsIdentity(stamped);

    /// <summary>
    /// Keeps a copy of <paramref name="stamped"/> (the identity <paramref name="token"/> got, after the realm stamp) for the
    /// next requests with that token; nothing when the token is not (or no longer) remembered.
    /// </summary>
    public void RememberStamped(SecurityToken token, ClaimsIdentity stamped)
    {
        if (token is JsonWebToken jwt && _validated.TryGetValue(jwt.EncodedToken, out Validated? hit) && hit is not null
            && ReferenceEquals(hit.Token, token) && hit.Stamped is null)
        {
            hit.Stamped = new StampedIdentity(stamped);
        }
    }

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (_validated.TryGetValue(token, out Validated? hit) && hit is not null)
        {
            if (hit.Stamped is { } stamped)
            {
                return new TokenValidationResult
                {
                    IsValid = true,
                    ClaimsIdentity = stamped,
                    SecurityToken = hit.Token,
                    Issuer = hit.Issuer,
                    TokenType = hit.TokenType,
                };
            }
            // A copy per request (about 1 KB of claims): the realm stamp removes and adds claims in place, and a shared
            // identity would be stamped by concurrent requests at once (a List<Claim> is not thread-safe) and carry one
            // request's changes into the next.
            return new TokenValidationResult
            {
                IsValid = true,
                ClaimsIdentity = new CaseSensitiveClaimsIdentity(hit.Identity),
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
                _validated.Set(token, new Validated(new CaseSensitiveClaimsIdentity(identity), validated, result.Issuer, result.TokenType),
                    new MemoryCacheEntryOptions { AbsoluteExpiration = until, Size = token.Length });
            }
        }
        return result;
    }

    public override SecurityToken ReadToken(string token) => _inner.ReadToken(token);
}
