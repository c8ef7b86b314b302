using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DiveAspire.Backend.Redis;
using Microsoft.AspNetCore.WebUtilities;
using StackExchange.Redis;

namespace DiveAspire.Backend.OAuth;

/// <summary>
/// Authorization codes in the instance's Redis: <c>dive-v3:oauth:code:{code}</c> for 60 s, 32 random bytes base64url.
/// Consuming checks client, redirect URI and PKCE S256 (required: a code without a challenge never exchanges) and deletes the code in one Lua script, so of two concurrent consumes
/// exactly one succeeds; a consumed code leaves <c>dive-v3:oauth:code:used:{code}</c> for 3600 s to tell "already used"
/// from "expired". A failed check does not burn the code (the auth limiter bounds guessing).
/// </summary>
public sealed class AuthorizationCodeStore(RedisStores redis, TimeProvider clock)
{
    public static readonly TimeSpan CodeTtl = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan UsedTtl = TimeSpan.FromSeconds(3600);

    public static string Key(string code) => $"dive-v3:oauth:code:{code}";
    public static string UsedKey(string code) => $"dive-v3:oauth:code:used:{code}";

    // KEYS[1] code, KEYS[2] used; ARGV[1] client, ARGV[2] redirect, ARGV[3] S256(verifier) or "", ARGV[4] audit JSON, ARGV[5] used TTL s.
    private const string ConsumeScript = """
        local v = redis.call('GET', KEYS[1])
        if not v then
          if redis.call('EXISTS', KEYS[2]) == 1 then return {'AlreadyUsed'} end
          return {'NotFound'}
        end
        local c = cjson.decode(v)
        if c.ClientId ~= ARGV[1] then return {'WrongClient'} end
        if c.RedirectUri ~= ARGV[2] then return {'RedirectMismatch'} end
        if c.CodeChallenge == nil or c.CodeChallenge == '' or c.CodeChallenge ~= ARGV[3] then return {'PkceFailed'} end
        redis.call('DEL', KEYS[1])
        redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[5])
        return {'Ok', v}
        """;

    public async Task<string> IssueAsync(AuthorizationCode code)
    {
        var value = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        await redis.Cache.GetDatabase().StringSetAsync(Key(value), JsonSerializer.Serialize(code, StoreJson.Default.AuthorizationCode), CodeTtl, When.NotExists);
        return value;
    }

    public async Task<(ConsumeOutcome Outcome, AuthorizationCode? Code)> ConsumeAsync(string code, string clientId, string redirectUri, string? verifier)
    {
        var audit = JsonSerializer.Serialize(new AuthorizationCodeUse(clock.GetUtcNow(), clientId), StoreJson.Default.AuthorizationCodeUse);
        var result = (RedisResult[])(await redis.Cache.GetDatabase().ScriptEvaluateAsync(ConsumeScript,
            [Key(code), UsedKey(code)],
            [clientId, redirectUri, verifier is null ? "" : S256(verifier), audit, (long)UsedTtl.TotalSeconds]))!;
        var outcome = Enum.Parse<ConsumeOutcome>(result[0].ToString());
        return outcome == ConsumeOutcome.Ok
            ? (outcome, JsonSerializer.Deserialize(result[1].ToString(), StoreJson.Default.AuthorizationCode))
            : (outcome, null);
    }

    /// <summary>PKCE S256: base64url(SHA-256(ASCII(verifier))).</summary>
    public static string S256(string verifier) => WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
}
