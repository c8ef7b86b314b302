using System.Diagnostics;
using System.Net;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// Tokens signed by the federation's realms (RS256, keys from each realm's metadata over HTTP), as Keycloak issues them
/// in container runtime, checked by every backend with the issuing realm's keys.
/// </summary>
[Collection(RealmFederationCollection.Name)]
public sealed class RealmTokenTests(RealmFederationFixture federation)
{
    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(10);

    private OidcRealmStandIn Realms => federation.Realms;

    private static string NewUser(string realm) => $"testuser-{realm}-{Guid.NewGuid():N}"[..24];

    [Fact]
    public async Task A_hub_realm_token_works_on_every_spoke()
    {
        var token = Realms.Mint("usa", "testuser-usa-1", "SECRET");
        foreach (var code in new[] { "rou", "bel" })
        {
            using var http = federation.Backend(code, token);
            var (status, body) = await GetAsync(http, "/api/auth/whoami");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("testuser-usa-1", body.GetProperty("user").GetString());
            Assert.Equal("SECRET", body.GetProperty("clearance").GetString());
            Assert.Equal("USA", body.GetProperty("country").GetString());
            Assert.Equal(code.ToUpperInvariant(), body.GetProperty("instance").GetString());
            Assert.Equal(Federation.Issuer(NatoCatalog.Hub), body.GetProperty("issuer").GetString());

            (status, _) = await GetAsync(http, "/api/resources");
            Assert.Equal(HttpStatusCode.OK, status);
        }
    }

    [Fact]
    public async Task The_dev_key_still_works_next_to_the_realms()
    {
        using var http = federation.Backend("rou", federation.Mint("usa", "dev-user"));
        var (status, body) = await GetAsync(http, "/api/auth/whoami");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("dev-user", body.GetProperty("user").GetString());
    }

    public static TheoryData<string, string> BadRealmTokens() => new()
    {
        { "unknown key", "Token signature is invalid" },
        // A realm's keys validate only tokens that carry that realm's issuer.
        { "usa key, rou issuer", "Token signature is invalid" },
        { "usa key, issuer outside the federation", "Token issuer is not trusted by this federation" },
        // BEL even holds FRA's keys: the federation's issuer list still refuses FRA's tokens.
        { "realm outside the federation", "Token issuer is not trusted by this federation" },
    };

    [Theory]
    [MemberData(nameof(BadRealmTokens))]
    public async Task Tokens_no_federation_realm_signed_get_401_json(string kind, string message)
    {
        var token = kind switch
        {
            "unknown key" => Realms.Mint("usa", "u", key: Realms.NewKey()),
            "usa key, rou issuer" => Realms.Mint("usa", "u", issuer: Federation.Issuer(NatoCatalog.Get("rou"))),
            "usa key, issuer outside the federation" => Realms.Mint("usa", "u", issuer: Federation.Issuer(NatoCatalog.Get(RealmFederationFixture.OutsideRealm))),
            _ => Realms.Mint(RealmFederationFixture.OutsideRealm, "u"),
        };
        using var http = federation.Backend("bel", token);
        var (status, body) = await GetAsync(http, "/api/auth/whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Unauthorized", body.GetProperty("error").GetString());
        Assert.Equal(message, Message(body));
    }

    [Fact]
    public async Task A_rotated_realm_key_is_accepted_after_the_backend_refreshes_and_the_old_key_still_works()
    {
        using var warm = federation.Backend("usa", Realms.Mint("rou", NewUser("rou")));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(warm, "/api/auth/whoami")).Status);

        var rotated = Realms.Rotate("rou");
        using var http = federation.Backend("usa", Realms.Mint("rou", NewUser("rou"), key: rotated));
        var (status, body) = await GetAsync(http, "/api/auth/whoami");
        // usa holds rou's keys from before the rotation: this request fails and makes it refresh.
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Token signature is invalid", Message(body));
        await EventuallyAsync(async () => (await GetAsync(http, "/api/auth/whoami")).Status == HttpStatusCode.OK,
            "the token signed with the rotated key is accepted", TimeSpan.FromSeconds(15), pollMs: 250);

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(warm, "/api/auth/whoami")).Status);
    }

    [Fact]
    public async Task Logout_of_a_realm_token_on_the_hub_revokes_it_on_a_spoke()
    {
        var token = Realms.Mint("usa", NewUser("usa"));
        using var usa = federation.Backend("usa", token);
        using var rou = federation.Backend("rou", token);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(rou, "/api/auth/whoami")).Status);

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/logout")).Status);

        await EventuallyAsync(async () =>
        {
            var (status, body) = await GetAsync(rou, "/api/auth/whoami");
            return status == HttpStatusCode.Unauthorized && Message(body) == "Token has been revoked";
        }, "the logout on usa reaches rou", TimeSpan.FromSeconds(10));
    }

    /// <summary>BEL's realm is used by no other test here, so no backend holds its keys when the realms stop.</summary>
    [Fact]
    public async Task A_realm_that_does_not_answer_costs_a_401_json_never_a_500_or_a_hang()
    {
        var hubToken = Realms.Mint("usa", NewUser("usa"));
        var belToken = Realms.Mint("bel", NewUser("bel"));
        var unknownKidToken = Realms.Mint("usa", NewUser("usa"), key: Realms.NewKey());
        using var rou = federation.Backend("rou");
        rou.Timeout = TimeSpan.FromSeconds(30);
        Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(rou, hubToken));

        await Realms.StopAsync();
        try
        {
            var watch = Stopwatch.StartNew();
            var (status, body) = await WhoAmIAsync(rou, belToken);
            Assert.True(watch.Elapsed < NoHang, $"took {watch.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("Token signature cannot be verified: the signing keys of its realm are unavailable", Message(body));

            watch.Restart();
            (status, body) = await WhoAmIAsync(rou, unknownKidToken);
            Assert.True(watch.Elapsed < NoHang, $"took {watch.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("Token signature is invalid", Message(body));

            // Keys fetched before the outage keep working.
            Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(rou, hubToken));

            rou.DefaultRequestHeaders.Authorization = null;
            var (health, _) = await GetAsync(rou, "/health");
            Assert.Equal(HttpStatusCode.OK, health);

            await EventuallyAsync(async () => await ResourceLogs.CountAsync(federation, "backend-rou", "Signing keys of realm dive-v3-broker-bel cannot be fetched") > 0,
                "a warning that names the unreachable realm", TimeSpan.FromSeconds(15), pollMs: 500);
        }
        finally
        {
            await Realms.StartAsync();
        }

        // The realm answers again: its tokens are accepted without restarting anything.
        await EventuallyAsync(async () => await WhoAmIStatusAsync(rou, belToken) == HttpStatusCode.OK,
            "bel's token is accepted once its realm answers", TimeSpan.FromSeconds(15), pollMs: 250);
        Assert.DoesNotContain(federation.Logs.Lines, line =>
            new[] { hubToken, belToken, unknownKidToken }.Any(t => line.Message.Contains(t.Split('.')[1], StringComparison.Ordinal)));
    }

    /// <summary>ROU's realm on backend-rou is used by no other test here, so its keys are fetched first while it hangs.</summary>
    [Fact]
    public async Task A_realm_that_hangs_costs_concurrent_requests_one_fetch_timeout_then_fails_fast()
    {
        var token = Realms.Mint("rou", NewUser("rou"));
        const string unavailable = "Token signature cannot be verified: the signing keys of its realm are unavailable";
        Realms.Stalled = true;
        try
        {
            var watch = Stopwatch.StartNew();
            var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
            {
                using var rou = federation.Backend("rou", token);
                rou.Timeout = TimeSpan.FromSeconds(30);
                return await GetAsync(rou, "/api/auth/whoami");
            }));
            // The three share one fetch, which the backend gives up after FetchTimeout (5 s).
            Assert.True(watch.Elapsed < NoHang, $"took {watch.Elapsed.TotalSeconds:F1} s");
            Assert.All(results, r => Assert.Equal((HttpStatusCode.Unauthorized, unavailable), (r.Status, Message(r.Body))));

            using var again = federation.Backend("rou", token);
            watch.Restart();
            var (status, body) = await GetAsync(again, "/api/auth/whoami");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"the retry delay should answer at once, took {watch.Elapsed.TotalSeconds:F1} s");
            Assert.Equal((HttpStatusCode.Unauthorized, unavailable), (status, Message(body)));
        }
        finally
        {
            Realms.Stalled = false;
        }
        using var http = federation.Backend("rou", token);
        await EventuallyAsync(async () => (await GetAsync(http, "/api/auth/whoami")).Status == HttpStatusCode.OK,
            "rou's token is accepted once its realm answers", TimeSpan.FromSeconds(20), pollMs: 500);
    }

    private static async Task<(HttpStatusCode Status, System.Text.Json.JsonElement Body)> WhoAmIAsync(HttpClient http, string token)
    {
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return await GetAsync(http, "/api/auth/whoami");
    }

    private static async Task<HttpStatusCode> WhoAmIStatusAsync(HttpClient http, string token) => (await WhoAmIAsync(http, token)).Status;
}
