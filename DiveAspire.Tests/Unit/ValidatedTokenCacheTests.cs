using System.Security.Claims;
using DiveAspire.Backend.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Tests.Unit;

/// <summary>The per-token cache of validated principals in front of the real JWT handler (no mock: real HS256 tokens).</summary>
public class ValidatedTokenCacheTests
{
    private static readonly SymmetricSecurityKey Key = new(System.Text.Encoding.UTF8.GetBytes(new string('k', 32)));

    private static TokenValidationParameters Parameters(SecurityKey key) => new()
    {
        ValidIssuer = "issuer",
        ValidAudience = "audience",
        IssuerSigningKey = key,
        ValidateLifetime = true,
        ClockSkew = TimeSpan.Zero,
    };

    private static string Token(DateTime expires, string subject = "alice") => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "issuer",
        Audience = "audience",
        Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim("jti", Guid.NewGuid().ToString())]),
        NotBefore = DateTime.UtcNow.AddMinutes(-1),
        IssuedAt = DateTime.UtcNow.AddMinutes(-1),
        Expires = expires,
        SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
    });

    [Fact]
    public async Task A_remembered_token_gives_every_request_its_own_copy_of_the_identity()
    {
        var cache = new ValidatedTokenCache(new JsonWebTokenHandler(), TimeProvider.System);
        var token = Token(DateTime.UtcNow.AddMinutes(5));
        var first = await cache.ValidateTokenAsync(token, Parameters(Key));
        Assert.True(first.IsValid);
        first.ClaimsIdentity.AddClaim(new Claim("dive.realm", "USA")); // what the realm stamp does to the request's copy

        var second = await cache.ValidateTokenAsync(token, Parameters(Key));
        Assert.True(second.IsValid);
        Assert.NotSame(first.ClaimsIdentity, second.ClaimsIdentity);
        Assert.Null(second.ClaimsIdentity.FindFirst("dive.realm"));
        Assert.Equal("alice", second.ClaimsIdentity.FindFirst("sub")?.Value);
        Assert.Equal(first.SecurityToken.Id, second.SecurityToken.Id);
    }

    [Fact]
    public async Task Once_a_request_stamped_its_copy_the_next_requests_share_that_stamped_identity_and_change_nothing_of_it()
    {
        var cache = new ValidatedTokenCache(new JsonWebTokenHandler(), TimeProvider.System);
        var token = Token(DateTime.UtcNow.AddMinutes(5));
        var first = await cache.ValidateTokenAsync(token, Parameters(Key));
        first.ClaimsIdentity.AddClaim(new Claim("dive.realm", "USA"));
        cache.RememberStamped(first.SecurityToken, first.ClaimsIdentity);
        first.ClaimsIdentity.AddClaim(new Claim("dive.late", "x")); // the first request's own copy stays its own

        var second = await cache.ValidateTokenAsync(token, Parameters(Key));
        var third = await cache.ValidateTokenAsync(token, Parameters(Key));
        Assert.IsType<ValidatedTokenCache.StampedIdentity>(second.ClaimsIdentity);
        Assert.Same(second.ClaimsIdentity, third.ClaimsIdentity);
        Assert.NotSame(first.ClaimsIdentity, second.ClaimsIdentity);
        Assert.Equal("USA", second.ClaimsIdentity.FindFirst("dive.realm")?.Value);
        Assert.Null(second.ClaimsIdentity.FindFirst("dive.late"));
        Assert.Equal("alice", second.ClaimsIdentity.FindFirst("sub")?.Value);
        Assert.Same(first.SecurityToken, third.SecurityToken);
    }

    [Fact]
    public async Task Every_request_with_a_token_reads_its_claims_as_the_first_did_exact_case()
    {
        var cache = new ValidatedTokenCache(new JsonWebTokenHandler(), TimeProvider.System);
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "issuer",
            Audience = "audience",
            Subject = new ClaimsIdentity([new Claim("sub", "mallory"), new Claim("jti", Guid.NewGuid().ToString()), new Claim("COUNTRYOFAFFILIATION", "USA")]),
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
        });
        var first = await cache.ValidateTokenAsync(token, Parameters(Key));
        var copy = await cache.ValidateTokenAsync(token, Parameters(Key));
        cache.RememberStamped(first.SecurityToken, first.ClaimsIdentity);
        var stamped = await cache.ValidateTokenAsync(token, Parameters(Key));

        Assert.IsType<ValidatedTokenCache.StampedIdentity>(stamped.ClaimsIdentity);
        foreach (var identity in new[] { first.ClaimsIdentity, copy.ClaimsIdentity, stamped.ClaimsIdentity })
        {
            Assert.Null(identity.FindFirst("countryOfAffiliation"));
            Assert.Equal("USA", identity.FindFirst("COUNTRYOFAFFILIATION")?.Value);
        }
    }

    [Fact]
    public async Task A_stamp_is_remembered_only_for_the_token_object_the_cache_holds()
    {
        var cache = new ValidatedTokenCache(new JsonWebTokenHandler(), TimeProvider.System);
        var token = Token(DateTime.UtcNow.AddMinutes(5));
        var first = await cache.ValidateTokenAsync(token, Parameters(Key));
        // The same text parsed elsewhere (not what this cache validated) stamps nothing here.
        cache.RememberStamped(new JsonWebToken(token), new ClaimsIdentity([new Claim("dive.realm", "FORGED")]));
        cache.RememberStamped(new JsonWebToken(Token(DateTime.UtcNow.AddMinutes(5))), new ClaimsIdentity([new Claim("dive.realm", "FORGED")]));

        var second = await cache.ValidateTokenAsync(token, Parameters(Key));
        Assert.IsNotType<ValidatedTokenCache.StampedIdentity>(second.ClaimsIdentity);
        Assert.Null(second.ClaimsIdentity.FindFirst("dive.realm"));
        Assert.NotSame(first.ClaimsIdentity, second.ClaimsIdentity);
    }

    [Fact]
    public async Task A_token_is_not_accepted_from_the_cache_after_its_exp()
    {
        var cache = new ValidatedTokenCache(new JsonWebTokenHandler(), TimeProvider.System);
        var expires = DateTime.UtcNow.AddSeconds(2);
        var token = Token(expires);
        Assert.True((await cache.ValidateTokenAsync(token, Parameters(Key))).IsValid);
        await Task.Delay(expires - DateTime.UtcNow + TimeSpan.FromMilliseconds(300));
        var late = await cache.ValidateTokenAsync(token, Parameters(Key));
        Assert.False(late.IsValid);
        Assert.IsType<SecurityTokenExpiredException>(late.Exception);
    }

    [Fact]
    public async Task An_invalid_token_is_never_remembered()
    {
        var cache = new ValidatedTokenCache(new JsonWebTokenHandler(), TimeProvider.System);
        var token = Token(DateTime.UtcNow.AddMinutes(5));
        var otherKey = new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(new string('x', 32)));
        Assert.False((await cache.ValidateTokenAsync(token, Parameters(otherKey))).IsValid);
        Assert.False((await cache.ValidateTokenAsync(token, Parameters(otherKey))).IsValid);
        Assert.True((await cache.ValidateTokenAsync(token, Parameters(Key))).IsValid);
    }

    [Fact]
    public async Task Memory_is_bounded_by_token_characters_not_by_a_count_of_tokens()
    {
        var probe = Token(DateTime.UtcNow.AddMinutes(5));
        // Room for three tokens of this size: large tokens cannot fill memory through a count limit.
        var cache = new ValidatedTokenCache(new JsonWebTokenHandler(), TimeProvider.System, maxCachedCharacters: probe.Length * 3 + probe.Length / 2);
        for (var i = 0; i < 10; i++)
        {
            Assert.True((await cache.ValidateTokenAsync(Token(DateTime.UtcNow.AddMinutes(5)), Parameters(Key))).IsValid);
        }
        // MemoryCache enforces the size limit when an entry is added: never more than the budget holds.
        Assert.InRange(cache.Count, 1, 3);
    }
}
