using System.Net;
using System.Text;
using static DiveAspire.Tests.Security.RawRequests;

namespace DiveAspire.Tests.Security;

/// <summary>
/// The inputs of issue 20 that got a 500 with an empty body (and a stack trace in the log), or a non-JSON error, or were
/// accepted when a reviewer expects a refusal: each is now a 4xx with the project's JSON error.
/// </summary>
[Trait("Category", "Security")]
[Collection(BadInputCollection.Name)]
public sealed class BadInputAttackTests(BadInputFixture federation)
{
    private const string Json = "application/json";
    private string User() => federation.Mint(BadInputFixture.Code, "bad-" + Guid.NewGuid().ToString("N")[..12]);

    private async Task<RawResponse> SendAsync(string method, string path, string? contentType, string? body, string? token)
    {
        using var http = federation.Backend(BadInputFixture.Code);
        return await RawRequests.SendAsync(http, method, path, contentType, body is null ? null : Encoding.UTF8.GetBytes(body), token);
    }

    private static void AssertClientError(RawResponse response, int? status = null)
    {
        Assert.True(response.Violation() is null, response.Violation());
        Assert.InRange(response.Code, 400, 499);
        if (status is not null)
        {
            Assert.True(status == response.Code, $"{response.Request} -> {response.Code}, expected {status}: {response.Body}");
        }
    }

    public static TheoryData<string, string, string?, string?, int> ServerErrorsBefore() => new()
    {
        // 1. unpaired surrogate escapes in the revocation bodies
        { "POST", "/api/blacklist/check", Json, """{"jti":"\ud800"}""", 400 },
        { "POST", "/api/auth/logout", Json, """{"reason":"\udfff"}""", 400 },
        { "POST", "/api/auth/revoke", Json, """{"uniqueID":"\ud800x"}""", 400 },
        { "POST", "/api/auth/blacklist-token", Json, """{"jti":"\ud800","reason":"r"}""", 400 },
        // 2. upload with no body, an empty body or null
        { "POST", "/api/upload", null, null, 400 },
        { "POST", "/api/upload", Json, "", 400 },
        { "POST", "/api/upload", Json, "null", 400 },
        // 3. null inside the arrays
        { "POST", "/api/upload", Json, """{"resourceId":"f","title":"t","classification":"UNCLASSIFIED","coi":[null]}""", 400 },
        { "POST", "/api/upload", Json, """{"resourceId":"f","title":"t","classification":"UNCLASSIFIED","releasabilityTo":[null]}""", 400 },
        // 4. authorize with no body, an empty body or null
        { "POST", "/api/oauth/authorize", null, null, 400 },
        { "POST", "/api/oauth/authorize", Json, "", 400 },
        { "POST", "/api/oauth/authorize", Json, "null", 400 },
        // 5. an unknown charset
        { "POST", "/api/upload", "application/json; charset=bogus-9", "{}", 415 },
        { "POST", "/api/oauth/authorize", "application/json; charset=bogus-9", "{}", 415 },
        { "POST", "/api/auth/otp/verify", "application/json; charset=bogus-9", "{}", 415 },
        // wrong content type, invalid JSON, wrong types
        { "POST", "/api/upload", "text/plain", "{}", 415 },
        { "POST", "/api/auth/otp/verify", Json, "{", 400 },
        { "POST", "/api/upload", Json, """{"resourceId":5}""", 400 },
        // 404, 405
        { "GET", "/api/no-such-endpoint", null, null, 404 },
        { "GET", "/api/resources/%2e%2e/%2e%2e/etc/passwd", null, null, 404 },
        { "GET", "/api/upload", null, null, 405 },
        { "DELETE", "/api/resources", null, null, 405 },
    };

    [Theory]
    [MemberData(nameof(ServerErrorsBefore))]
    public async Task Each_input_that_was_a_500_or_a_bare_error_is_a_4xx_json_error(string method, string path, string? contentType, string? body, int status) =>
        AssertClientError(await SendAsync(method, path, contentType, body, User()), status);

    public static TheoryData<string, string, int> BadForms() => new()
    {
        { "multipart/form-data", "--X\r\n\r\n--X--\r\n", 400 },
        { "multipart/form-data; boundary=", "--X\r\n\r\n--X--\r\n", 400 },
        { "multipart/form-data; boundary=Y", "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--X--\r\n", 400 },
        { "multipart/form-data; boundary=X", "--X\r\nContent-Type: text/plain\r\n\r\n1\r\n--X--\r\n", 400 },
        { "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nauth", 400 },
        { "application/x-www-form-urlencoded", "grant_type=%00&code=%00", 400 },
        { "application/x-www-form-urlencoded", new string('k', 2049) + "=1", 400 },
        { "application/x-www-form-urlencoded", string.Join('&', Enumerable.Range(0, 1100).Select(i => $"f{i}=1")), 400 },
        { "application/x-www-form-urlencoded", "grant_type=" + new string('v', 5 * 1024 * 1024), 413 },
    };

    [Theory]
    [MemberData(nameof(BadForms))]
    public async Task A_form_the_framework_rejects_on_the_token_endpoint_is_a_4xx_json_error(string contentType, string body, int status) =>
        AssertClientError(await SendAsync("POST", "/api/oauth/token", contentType, body, token: null), status);

    [Fact]
    public async Task An_oversized_body_is_a_413_json_error_on_every_body_reading_endpoint()
    {
        var big = $$"""{"resourceId":"big","title":"{{new string('t', 2 * 1024 * 1024)}}","classification":"UNCLASSIFIED"}""";
        foreach (var path in new[] { "/api/upload", "/api/oauth/authorize", "/api/blacklist/check", "/api/auth/logout" })
        {
            AssertClientError(await SendAsync("POST", path, Json, big, User()), 413);
        }
    }

    public static TheoryData<string> BadRedirects() =>
        ["javascript:alert(1)", "data:text/html,<script>x</script>", "file:///etc/passwd", "/relative/callback", "callback",
         "http://rou.dive.example/callback", "https://user:pw@rou.dive.example/cb", "https://rou.dive.example/cb#fragment", "https://"];

    [Theory]
    [MemberData(nameof(BadRedirects))]
    public async Task Authorize_accepts_only_absolute_https_redirect_uris(string redirectUri)
    {
        var body = System.Text.Json.JsonSerializer.Serialize(new { clientId = "dive-frontend", redirectUri, codeChallenge = new string('A', 43), codeChallengeMethod = "S256" });
        var response = await SendAsync("POST", "/api/oauth/authorize", Json, body, User());
        AssertClientError(response, 400);
        Assert.Contains("redirectUri", response.Body);
    }

    public static TheoryData<string, string> UnsafeUploads() => new()
    {
        { "NUL in the id", """{"resourceId":"ROU-a\u0000b","title":"t","classification":"UNCLASSIFIED"}""" },
        { "ANSI escape in the title", """{"resourceId":"ROU-ansi","title":"\u001b[31mred\u001b[0m","classification":"UNCLASSIFIED"}""" },
        { "right-to-left override in the title", """{"resourceId":"ROU-rlo","title":"report\u202Efdp.exe","classification":"UNCLASSIFIED"}""" },
        { "isolate in the id", """{"resourceId":"ROU-\u2066x","title":"t","classification":"UNCLASSIFIED"}""" },
        { "newline in the title", """{"resourceId":"ROU-nl","title":"a\nb","classification":"UNCLASSIFIED"}""" },
        { "unpaired surrogate in the title", """{"resourceId":"ROU-sur","title":"a\ud800","classification":"UNCLASSIFIED"}""" },
        { "a 257-character title", $$"""{"resourceId":"ROU-long","title":"{{new string('t', 257)}}","classification":"UNCLASSIFIED"}""" },
        { "65 releasability entries", $$"""{"resourceId":"ROU-many","title":"t","classification":"UNCLASSIFIED","releasabilityTo":[{{string.Join(',', Enumerable.Repeat("\"USA\"", 65))}}]}""" },
        { "1,000 COI entries", $$"""{"resourceId":"ROU-many","title":"t","classification":"UNCLASSIFIED","coi":[{{string.Join(',', Enumerable.Repeat("\"NATO\"", 1_000))}}]}""" },
        { "a control character in a COI", """{"resourceId":"ROU-coi","title":"t","classification":"UNCLASSIFIED","coi":["NA\u0007TO"]}""" },
        { "a 65-character COI", $$"""{"resourceId":"ROU-coi","title":"t","classification":"UNCLASSIFIED","coi":["{{new string('C', 65)}}"]}""" },
    };

    [Theory]
    [MemberData(nameof(UnsafeUploads))]
    public async Task Upload_refuses_control_bidi_and_oversized_fields(string what, string body)
    {
        var response = await SendAsync("POST", "/api/upload", Json, body, User());
        Assert.True(response.Code == 400, $"{what}: {response.Code} {response.Body}");
        AssertClientError(response, 400);
    }

    [Fact]
    public async Task Health_and_metrics_answer_the_same_whatever_token_is_attached()
    {
        var revoked = User();
        using (var http = federation.Backend(BadInputFixture.Code, revoked))
        {
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/auth/logout", null)).StatusCode);
        }
        var expired = DiveAspire.Cli.Tokens.DevTokenMinter.Mint(
            new(DiveAspire.Topology.NatoCatalog.Get("ROU"), "old", Ttl: TimeSpan.FromMinutes(1), Now: DateTimeOffset.UtcNow.AddMinutes(-10)),
            federation.Secrets.DevSigningKey);
        foreach (var path in new[] { "/health", "/health/live", "/health/ready", "/health/detailed", "/health/redis", "/metrics" })
        {
            var anonymous = await SendAsync("GET", path, null, null, token: null);
            Assert.Equal(HttpStatusCode.OK, anonymous.Status);
            foreach (var token in new[] { revoked, expired, "not-a-jwt", "a.b.c", new string('x', 9000) })
            {
                var response = await SendAsync("GET", path, null, null, token);
                Assert.True(anonymous.Status == response.Status, $"{path} with token '{token[..Math.Min(20, token.Length)]}...' -> {response.Code} {response.Body}");
            }
        }
    }
}
