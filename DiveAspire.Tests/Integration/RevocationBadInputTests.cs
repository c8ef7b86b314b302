using System.Net;
using DiveAspire.Cli.Tokens;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Integration;

/// <summary>Every bad token and bad input on the revocation endpoints: the specified status with a JSON error, never a 500.</summary>
[Collection(FederationCollection.Name)]
public sealed class RevocationBadInputTests(FederationFixture federation)
{
    private static readonly string LongJti = new('j', 513);

    public static TheoryData<string, string, string?, string> BadBodies() => new()
    {
        { "POST", "/api/blacklist/check", "", "Request body must be a JSON object" },
        { "POST", "/api/blacklist/check", "not json", "Request body is not valid JSON" },
        { "POST", "/api/blacklist/check", "[1,2]", "Request body must be a JSON object" },
        { "POST", "/api/blacklist/check", "{}", "'jti' is required" },
        { "POST", "/api/blacklist/check", """{"jti":"  "}""", "'jti' is required" },
        { "POST", "/api/blacklist/check", """{"jti":42}""", "'jti' must be a string" },
        { "POST", "/api/blacklist/check", $$"""{"jti":"{{LongJti}}"}""", "'jti' must be at most 512 bytes" },
        { "POST", "/api/auth/blacklist-token", "", "Request body must be a JSON object" },
        { "POST", "/api/auth/blacklist-token", "{\"jti\":", "Request body is not valid JSON" },
        { "POST", "/api/auth/blacklist-token", "{}", "'jti' is required" },
        { "POST", "/api/auth/blacklist-token", $$"""{"jti":"{{LongJti}}"}""", "'jti' must be at most 512 bytes" },
        { "POST", "/api/auth/blacklist-token", """{"jti":"x","exp":"tomorrow"}""", "'exp' must be a whole number from 0 to 253402300799" },
        { "POST", "/api/auth/logout", "<xml/>", "Request body is not valid JSON" },
        { "POST", "/api/auth/logout", """{"reason":7}""", "'reason' must be a string" },
        { "POST", "/api/auth/revoke", """{"ttlSeconds":0}""", "'ttlSeconds' must be a whole number from 1 to 86400" },
        { "POST", "/api/auth/revoke", """{"ttlSeconds":1.5}""", "'ttlSeconds' must be a whole number from 1 to 86400" },
        { "POST", "/api/auth/revoke", $$"""{"uniqueID":"{{LongJti}}"}""", "'uniqueID' must be at most 512 bytes" },
        { "GET", $"/api/auth/check-blacklist/{LongJti}", null, "'jti' must be at most 512 bytes" },
        { "GET", "/api/auth/check-blacklist/", null, "'jti' is required" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_input_is_a_400_with_a_json_error(string method, string path, string? body, string message)
    {
        var user = $"testuser-usa-{Guid.NewGuid():N}"[..24];
        using var http = federation.Backend("usa", federation.Mint("usa", user));
        var (status, json) = await SendAsync(http, new HttpMethod(method), path, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Bad Request", json.GetProperty("error").GetString());
        Assert.Equal(message, Message(json));

        // A rejected request revoked nothing: the same token still works.
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "usa", federation.Mint("usa", user)));
    }

    public static TheoryData<string, string> ProtectedEndpoints() => new()
    {
        { "POST", "/api/auth/logout" },
        { "POST", "/api/auth/revoke" },
        { "POST", "/api/auth/blacklist-token" },
        { "GET", "/api/auth/check-blacklist/abc" },
        { "POST", "/api/blacklist/check" },
        { "GET", "/api/blacklist/stats" },
        { "POST", "/api/blacklist/sync" },
        { "GET", "/api/resources" },
    };

    [Theory]
    [MemberData(nameof(ProtectedEndpoints))]
    public async Task Missing_malformed_and_expired_tokens_are_401_json_on_every_endpoint(string method, string path)
    {
        var expired = DevTokenMinter.Mint(new(NatoCatalog.Hub, "testuser-usa-1", Ttl: TimeSpan.FromMinutes(1), Now: DateTimeOffset.UtcNow.AddMinutes(-10)),
            federation.Secrets.DevSigningKey);
        foreach (var (token, message) in new[] { ((string?)null, "No token provided"), ("not-a-jwt", "Token is invalid"), (expired, "Token has expired") })
        {
            using var http = federation.Backend("rou", token);
            var (status, json) = await SendAsync(http, new HttpMethod(method), path, method == "POST" ? "{}" : null);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("Unauthorized", json.GetProperty("error").GetString());
            Assert.Equal(message, Message(json));
        }
    }

    [Fact]
    public async Task A_user_may_not_blacklist_someone_elses_token_and_admin_endpoints_need_the_admin_role()
    {
        using var http = federation.Backend("bel", federation.Mint("bel", "testuser-bel-1"));
        var (status, json) = await PostAsync(http, "/api/auth/blacklist-token", $$"""{"jti":"{{Guid.NewGuid()}}"}""");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("Only a dive-admin may blacklist another token", Message(json));

        foreach (var (method, path) in new[] { ("GET", "/api/blacklist/stats"), ("POST", "/api/blacklist/sync") })
        {
            var (adminStatus, adminJson) = await SendAsync(http, new HttpMethod(method), path, method == "POST" ? "" : null);
            Assert.Equal(HttpStatusCode.Forbidden, adminStatus);
            Assert.Equal("Forbidden", adminJson.GetProperty("error").GetString());
        }

        // Another user's jti names no realm: only the hub realm's admin blacklists it (BEL's admin did before issue 12).
        using var admin = federation.Backend("bel", federation.MintAdmin());
        var (missingExp, missingJson) = await PostAsync(admin, "/api/auth/blacklist-token", $$"""{"jti":"{{Guid.NewGuid()}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, missingExp);
        Assert.Contains("'exp'", Message(missingJson));
    }

    [Fact]
    public async Task A_revoked_token_is_401_on_every_endpoint_including_logout_again()
    {
        var token = federation.Mint("usa", $"testuser-usa-{Guid.NewGuid():N}"[..24]);
        using var http = federation.Backend("usa", token);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, "/api/auth/logout")).Status);
        foreach (var path in new[] { "/api/auth/logout", "/api/auth/revoke", "/api/blacklist/check" })
        {
            var (status, json) = await PostAsync(http, path, """{"jti":"x"}""");
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("Token has been revoked", Message(json));
        }
    }
}
