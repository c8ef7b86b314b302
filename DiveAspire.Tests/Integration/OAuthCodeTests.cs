using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using DiveAspire.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace DiveAspire.Tests.Integration;

[Collection(FederationCollection.Name)]
public sealed class OAuthCodeTests(FederationFixture federation)
{
    // Each test its own client: failed exchanges also count per client (issue 12), 5 per 15 min.
    private static int _nextClient;
    private readonly string Client = $"dive-frontend-{Interlocked.Increment(ref _nextClient)}";
    private const string Redirect = "https://rou.dive.example/callback";

    // Each test its own client IP, so the auth limiter (5 failures per 15 min) of one test never affects another.
    private static int _nextIp;
    private readonly string _ip = $"192.0.2.{Interlocked.Increment(ref _nextIp)}";

    // PKCE S256 is required (issue 12): every code is authorized with a challenge, and exchanged with its verifier
    // unless a test passes another one ("" sends none).
    private readonly Dictionary<string, string> _verifiers = new();

    private static (string Verifier, string Challenge) NewPkce()
    {
        var verifier = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        return (verifier, WebEncoders.Base64UrlEncode(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(verifier))));
    }

    private async Task<string> AuthorizeAsync(string user = "oauth-user")
    {
        var (verifier, challenge) = NewPkce();
        using var http = federation.Backend("rou", federation.Mint("rou", user, "NATO_SECRET", coi: ["NATO", "FVEY"]));
        using var response = await http.PostAsJsonAsync("/api/oauth/authorize", new
        {
            clientId = Client, redirectUri = Redirect, scope = "openid profile", codeChallenge = challenge, codeChallengeMethod = "S256",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(60, body.GetProperty("expiresIn").GetInt32());
        var code = body.GetProperty("code").GetString()!;
        lock (_verifiers)
        {
            _verifiers[code] = verifier;
        }
        return code;
    }

    private async Task<HttpResponseMessage> ExchangeAsync(string code, string? client = null, string redirect = Redirect, string? verifier = null)
    {
        using var http = federation.Backend("rou");
        var form = new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["code"] = code, ["client_id"] = client ?? Client, ["redirect_uri"] = redirect };
        lock (_verifiers)
        {
            verifier ??= _verifiers.GetValueOrDefault(code);
        }
        if (!string.IsNullOrEmpty(verifier))
        {
            form["code_verifier"] = verifier;
        }
        return await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/oauth/token") { Content = new FormUrlEncodedContent(form) }.From(_ip));
    }

    private static async Task AssertInvalidGrantAsync(HttpResponseMessage response, string description)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
        Assert.Contains(description, body.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task A_code_is_32_random_bytes_kept_60_s_and_exchanges_once_for_a_working_token_with_an_audit_entry()
    {
        var code = await AuthorizeAsync();
        Assert.Equal(32, WebEncoders.Base64UrlDecode(code).Length);
        await using var redis = await federation.ConnectAsync("redis-rou");
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync($"dive-v3:oauth:code:{code}");
        Assert.InRange(ttl!.Value.TotalSeconds, 50, 60);

        using var exchanged = await ExchangeAsync(code);
        Assert.Equal(HttpStatusCode.OK, exchanged.StatusCode);
        var token = (await exchanged.JsonAsync()).GetProperty("access_token").GetString();

        Assert.False(await redis.GetDatabase().KeyExistsAsync($"dive-v3:oauth:code:{code}"));
        var usedTtl = await redis.GetDatabase().KeyTimeToLiveAsync($"dive-v3:oauth:code:used:{code}");
        Assert.InRange(usedTtl!.Value.TotalSeconds, 3590, 3600);

        // The issued token is accepted across the federation and carries the user's attributes.
        using var hub = federation.Backend("usa", token);
        var whoami = await (await hub.GetAsync("/api/auth/whoami")).JsonAsync();
        Assert.Equal("oauth-user", whoami.GetProperty("user").GetString());
        Assert.Equal("NATO_SECRET", whoami.GetProperty("clearance").GetString());

        await AssertInvalidGrantAsync(await ExchangeAsync(code), "already been used");
    }

    [Fact]
    public async Task Concurrent_consumes_of_one_code_give_exactly_one_success()
    {
        var code = await AuthorizeAsync();
        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await ExchangeAsync(code);
            return response.StatusCode;
        }));
        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
        // Failures past the auth limit (5) are 429s; the others are invalid_grant; never a second success.
        Assert.All(statuses.Where(s => s != HttpStatusCode.OK), s => Assert.Contains(s, new[] { HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests }));
    }

    [Fact]
    public async Task Unknown_code_is_invalid_grant()
    {
        await AssertInvalidGrantAsync(await ExchangeAsync(WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32))), "invalid or expired");
    }

    [Fact]
    public async Task Expired_code_is_invalid_grant()
    {
        var code = await AuthorizeAsync();
        await using var redis = await federation.ConnectAsync("redis-rou");
        // Let Redis expire the code now rather than waiting 60 s.
        Assert.True(await redis.GetDatabase().KeyExpireAsync($"dive-v3:oauth:code:{code}", TimeSpan.FromMilliseconds(50)));
        await Task.Delay(200);
        await AssertInvalidGrantAsync(await ExchangeAsync(code), "invalid or expired");
    }

    [Fact]
    public async Task Code_presented_by_another_client_is_invalid_grant()
    {
        await AssertInvalidGrantAsync(await ExchangeAsync(await AuthorizeAsync(), client: "other-client"), "issued to another client");
    }

    [Fact]
    public async Task Redirect_uri_mismatch_is_invalid_grant()
    {
        await AssertInvalidGrantAsync(await ExchangeAsync(await AuthorizeAsync(), redirect: "https://evil.example/cb"), "redirect_uri does not match");
    }

    [Fact]
    public async Task Pkce_s256_requires_the_matching_verifier()
    {
        var code = await AuthorizeAsync();
        var verifier = _verifiers[code];

        await AssertInvalidGrantAsync(await ExchangeAsync(code, verifier: ""), "code_verifier is required");
        await AssertInvalidGrantAsync(await ExchangeAsync(code, verifier: verifier + "x"), "code_verifier");
        using var ok = await ExchangeAsync(code, verifier: verifier);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task The_auth_limiter_counts_only_failed_exchanges()
    {
        // Successful exchanges do not count: six in a row all succeed.
        for (var i = 0; i < 6; i++)
        {
            using var ok = await ExchangeAsync(await AuthorizeAsync());
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("5", ok.Header("RateLimit-Remaining"));
        }
        for (var i = 1; i <= 5; i++)
        {
            using var failed = await ExchangeAsync("no-such-code");
            Assert.Equal(HttpStatusCode.BadRequest, failed.StatusCode);
            Assert.Equal((5 - i).ToString(), failed.Header("RateLimit-Remaining"));
        }
        // Now even a valid code is refused until the window ends.
        using var blocked = await ExchangeAsync(await AuthorizeAsync());
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.True(long.Parse(blocked.Header("Retry-After")) > 0);
        Assert.Equal("Too Many Requests", (await blocked.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Concurrent_failed_exchanges_never_pass_the_auth_limit()
    {
        // Each attempt takes its slot when admitted, so 20 at once cannot all see room for a 6th failure.
        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await ExchangeAsync("no-such-code");
            return response.StatusCode;
        }));
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.BadRequest));
        Assert.Equal(15, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task Malformed_requests_are_400_json_not_500()
    {
        using var http = federation.Backend("rou", federation.Mint("rou", "oauth-bad"));
        using var noClient = await http.PostAsJsonAsync("/api/oauth/authorize", new { redirectUri = Redirect });
        Assert.Equal(HttpStatusCode.BadRequest, noClient.StatusCode);
        using var plain = await http.PostAsJsonAsync("/api/oauth/authorize", new { clientId = Client, redirectUri = Redirect, codeChallenge = new string('a', 43), codeChallengeMethod = "plain" });
        Assert.Equal("invalid_request", (await plain.JsonAsync()).GetProperty("error").GetString());
        using var anon = federation.Backend("rou");
        using var json = await anon.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/oauth/token") { Content = JsonContent.Create(new { code = "x" }) }.From(_ip));
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
    }
}
