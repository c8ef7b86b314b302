using System.Net;
using System.Text.Json;
using DiveAspire.Cli.Tokens;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Integration;

[Collection(FederationCollection.Name)]
public sealed class AuthenticationTests(FederationFixture federation)
{
    [Fact]
    public async Task A_hub_token_works_on_a_spoke_federated_request()
    {
        var token = federation.Mint("usa", "testuser-usa-1", "SECRET");
        using var rou = federation.Backend("rou", token);
        var response = await rou.GetAsync("/api/auth/whoami");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("testuser-usa-1", body.GetProperty("user").GetString());
        Assert.Equal("SECRET", body.GetProperty("clearance").GetString());
        Assert.Equal("USA", body.GetProperty("country").GetString());
        Assert.Equal("ROU", body.GetProperty("instance").GetString());
        Assert.Equal(Federation.Issuer(NatoCatalog.Hub), body.GetProperty("issuer").GetString());
    }

    public static TheoryData<string, string?, string> BadTokens()
    {
        var now = DateTimeOffset.UtcNow;
        var wrongKey = new string('k', 64);
        return new()
        {
            { "missing", null, "No token provided" },
            { "malformed", "not-a-jwt", "Token is invalid" },
            { "expired", "EXPIRED", "Token has expired" },
            { "wrong issuer", "WRONG_ISSUER", "Token issuer is not trusted by this federation" },
            { "wrong signature", DevTokenMinter.Mint(new(NatoCatalog.Hub, "u", Now: now), wrongKey), "Token signature is invalid" },
        };
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Bad_tokens_get_401_with_a_json_error(string _, string? token, string message)
    {
        token = token switch
        {
            "EXPIRED" => Expired(),
            "WRONG_ISSUER" => DevTokenMinter.Mint(new(NatoCatalog.Get("fra"), "u"), federation.Secrets.DevSigningKey),
            _ => token,
        };
        using var http = federation.Backend("bel", token);
        var response = await http.GetAsync("/api/auth/whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Unauthorized", body.GetProperty("error").GetString());
        Assert.Equal(message, body.GetProperty("message").GetString());
    }

    private string Expired() => DevTokenMinter.Mint(
        new(NatoCatalog.Hub, "u", Ttl: TimeSpan.FromMinutes(1), Now: DateTimeOffset.UtcNow.AddMinutes(-10)), federation.Secrets.DevSigningKey);
}
