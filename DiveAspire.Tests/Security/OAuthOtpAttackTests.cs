using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using DiveAspire.Backend.Otp;
using DiveAspire.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;

namespace DiveAspire.Tests.Security;

/// <summary>Attacks on the authorization-code grant and on OTP enrolment.</summary>
[Collection(RevocationSecurityCollection.Name)]
[Trait("Category", "Security")]
public sealed class OAuthOtpAttackTests(RevocationSecurityFixture federation)
{
    private const string Client = "dive-frontend";
    private const string Redirect = "https://rou.dive.example/callback";

    private static string NewUser(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    private static (string Verifier, string Challenge) NewPkce()
    {
        var verifier = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        return (verifier, WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    private async Task<HttpResponseMessage> AuthorizeAsync(string token, string? challenge)
    {
        using var http = federation.Backend("rou", token);
        return await http.PostAsJsonAsync("/api/oauth/authorize", new
        {
            clientId = Client, redirectUri = Redirect, scope = "openid",
            codeChallenge = challenge, codeChallengeMethod = challenge is null ? null : "S256",
        });
    }

    private async Task<string> ExchangeAsync(string code, string verifier)
    {
        using var http = federation.Backend("rou");
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["client_id"] = Client, ["redirect_uri"] = Redirect, ["code_verifier"] = verifier,
        };
        using var response = await http.PostAsync("/api/oauth/token", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("access_token").GetString()!;
    }

    /// <summary>Authorizes with PKCE S256 as <paramref name="token"/>'s user and exchanges the code.</summary>
    private async Task<string> CodeFlowAsync(string token)
    {
        var (verifier, challenge) = NewPkce();
        using var authorized = await AuthorizeAsync(token, challenge);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
        return await ExchangeAsync((await authorized.JsonAsync()).GetProperty("code").GetString()!, verifier);
    }

    [Fact]
    public async Task Authorize_without_pkce_is_refused_as_a_downgrade()
    {
        using var response = await AuthorizeAsync(federation.Mint("rou", NewUser("sec-pkce")), challenge: null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("invalid_request", body.GetProperty("error").GetString());
        Assert.Contains("codeChallenge", body.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task Chained_code_exchanges_never_outlive_the_token_that_authorized_the_first_code()
    {
        var session = federation.Mint("rou", NewUser("sec-chain"), ttl: TimeSpan.FromMinutes(2));
        var sessionEnds = new JsonWebToken(session).ValidTo;
        var token = session;
        for (var i = 0; i < 3; i++)
        {
            token = await CodeFlowAsync(token);
            var exchanged = new JsonWebToken(token).ValidTo;
            Assert.True(exchanged <= sessionEnds, $"exchange {i + 1} minted a token valid until {exchanged:O}, after the session's {sessionEnds:O}");
        }
    }

    [Fact]
    public async Task Concurrent_otp_verifies_of_one_pending_secret_confirm_it_once()
    {
        var user = NewUser("sec-otp");
        var token = federation.Mint("rou", user);
        using var http = federation.Backend("rou", token);
        var secret = (await (await http.PostAsync("/api/auth/otp/setup", null)).JsonAsync()).GetProperty("secret").GetString()!;
        var code = Totp.Code(secret, DateTimeOffset.UtcNow);
        // The auth limiter admits 5 attempts at once per user; a replayed code must confirm the enrolment once only.
        var statuses = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var client = federation.Backend("rou", token);
            using var response = await client.PostAsJsonAsync("/api/auth/otp/verify", new { code });
            return response.StatusCode;
        }));
        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.All(statuses.Where(s => s != HttpStatusCode.OK), s => Assert.Equal(HttpStatusCode.NotFound, s));
    }

    [Fact]
    public async Task A_pending_otp_secret_is_not_readable_in_clear_from_redis_or_its_aof()
    {
        var user = NewUser("sec-otp");
        using var http = federation.Backend("rou", federation.Mint("rou", user));
        var secret = (await (await http.PostAsync("/api/auth/otp/setup", null)).JsonAsync()).GetProperty("secret").GetString()!;

        await using var redis = await federation.ConnectAsync("redis-rou");
        var stored = (string?)await redis.GetDatabase().StringGetAsync($"otp:pending:ROU:{user}"); // a ROU-realm user: the key is realm-qualified
        Assert.NotNull(stored);
        Assert.DoesNotContain(secret, stored);

        // The AOF is written every second (appendfsync everysec).
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var aofFiles = Directory.GetFiles(Path.Combine(federation.DataPath, "redis-rou"), "*.aof", SearchOption.AllDirectories);
        Assert.NotEmpty(aofFiles);
        foreach (var file in aofFiles)
        {
            Assert.DoesNotContain(secret, await File.ReadAllTextAsync(file));
        }

        // The owner still gets it back in clear.
        var pending = await (await http.GetAsync($"/api/auth/otp/pending-secret/{user}")).JsonAsync();
        Assert.Equal(secret, pending.GetProperty("secret").GetString());
    }
}
