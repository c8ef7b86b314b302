using System.Net;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Security;

/// <summary>The client address is the connection's unless a proxy the operator listed says otherwise; failed logins also count per account.</summary>
[Collection(SecurityCollection.Name)]
[Trait("Category", "Security")]
public sealed class ClientAddressTests(SecurityFixture federation)
{
    private static int _nextIp;

    private static string NewIp() => $"203.0.113.{Interlocked.Increment(ref _nextIp) % 250 + 1}";

    private async Task<HttpStatusCode> FailedExchangeAsync(string code, string clientId, string forwardedFor)
    {
        using var http = federation.Backend(code);
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Guid.NewGuid().ToString("N"), ["client_id"] = clientId,
            ["redirect_uri"] = "https://client.example/callback",
        };
        using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/oauth/token") { Content = new FormUrlEncodedContent(form) }.From(forwardedFor));
        return response.StatusCode;
    }

    [Fact]
    public async Task Nine_failed_code_exchanges_each_from_a_new_forwarded_address_are_stopped_after_5_on_a_backend_that_trusts_no_proxy()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 9; i++)
        {
            statuses.Add(await FailedExchangeAsync("usa", "client-" + Guid.NewGuid().ToString("N"), NewIp()));
        }
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.BadRequest, 5).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 4)), statuses);
    }

    [Fact]
    public async Task Failed_code_exchanges_count_per_client_even_from_addresses_a_trusted_proxy_rotates()
    {
        var client = "client-" + Guid.NewGuid().ToString("N");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 9; i++)
        {
            statuses.Add(await FailedExchangeAsync("rou", client, NewIp()));
        }
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.BadRequest, 5).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 4)), statuses);
    }

    [Fact]
    public async Task A_forged_X_Forwarded_For_of_an_allow_listed_address_does_not_skip_the_limits()
    {
        using var http = federation.Backend("usa", federation.Mint("usa", $"xff-{Guid.NewGuid():N}"[..24]));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/auth/otp/setup").From(SecurityFixture.AllowedIp));
            statuses.Add(response.StatusCode);
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }
}
