using System.Net;
using DiveAspire.Tests.Infrastructure;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Security;

/// <summary>Identity is (realm, subject): a spoke realm acts only for its own nation and its own backend.</summary>
[Collection(SecurityCollection.Name)]
[Trait("Category", "Security")]
public sealed class RealmIdentityTests(SecurityFixture federation)
{
    private static string NewUser(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..24];

    [Fact]
    public async Task A_spoke_realm_token_claiming_another_nation_is_refused()
    {
        using var http = federation.Backend("usa", federation.Mint("rou", NewUser("rou-user"), country: "USA"));
        var (status, body) = await GetAsync(http, "/api/auth/whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("countryOfAffiliation", Message(body));

        // The hub realm is the federation's broker: it may assert any nation.
        using var hub = federation.Backend("usa", federation.Mint("usa", NewUser("usa-user"), country: "ROU"));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(hub, "/api/auth/whoami")).Status);
    }

    [Fact]
    public async Task A_spoke_admin_cannot_revoke_a_hub_user_nor_administer_the_hub()
    {
        var victim = NewUser("admin-usa");
        var victimToken = federation.Mint("usa", victim);
        using var spokeAdmin = federation.Backend("usa", federation.Mint("rou", NewUser("admin-rou"), roles: ["dive-admin"]));

        var (revoke, _) = await PostAsync(spokeAdmin, "/api/auth/revoke", $$"""{"uniqueID":"{{victim}}","realm":"USA"}""");
        Assert.Equal(HttpStatusCode.Forbidden, revoke);
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "usa", victimToken));

        var exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        var (blacklist, _) = await PostAsync(spokeAdmin, "/api/auth/blacklist-token", $$"""{"jti":"{{Guid.NewGuid()}}","exp":{{exp}}}""");
        Assert.Equal(HttpStatusCode.Forbidden, blacklist);
        foreach (var (method, path) in new[] { ("POST", "/api/blacklist/sync"), ("GET", "/api/blacklist/stats"), ("GET", "/api/admin/rate-limits") })
        {
            var (status, body) = await SendAsync(spokeAdmin, new HttpMethod(method), path, method == "POST" ? "" : null);
            Assert.True(status == HttpStatusCode.Forbidden, $"{method} {path} on the hub by a ROU admin: {(int)status} {body}");
        }
        var (invalidate, _) = await PostAsync(spokeAdmin, "/api/admin/authz/invalidate", """{"scope":"all"}""");
        Assert.Equal(HttpStatusCode.Forbidden, invalidate);
    }

    [Fact]
    public async Task A_spoke_admin_administers_its_own_backend_and_its_own_realms_users()
    {
        using var spokeAdmin = federation.Backend("rou", federation.Mint("rou", NewUser("admin-rou"), roles: ["dive-admin"]));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(spokeAdmin, "/api/blacklist/sync")).Status);
        var user = NewUser("rou-user");
        var token = federation.Mint("rou", user);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(spokeAdmin, "/api/auth/revoke", $$"""{"uniqueID":"{{user}}"}""")).Status);
        await EventuallyAsync(async () => await WhoAmIAsync(federation, "usa", token) == HttpStatusCode.Unauthorized, "ROU user revoked on the hub");
    }

    [Fact]
    public async Task The_same_uniqueID_in_two_realms_never_shares_a_revocation()
    {
        var name = NewUser("twin");
        var hubToken = federation.Mint("usa", name);
        var spokeToken = federation.Mint("rou", name);
        using (var spoke = federation.Backend("rou", spokeToken))
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(spoke, "/api/auth/logout")).Status);
        }
        await EventuallyAsync(async () => await WhoAmIAsync(federation, "usa", spokeToken) == HttpStatusCode.Unauthorized, "ROU logout reached the hub");
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "usa", hubToken));
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "rou", hubToken));

        // The hub admin may revoke the ROU user explicitly; the hub user of the same name stays untouched.
        var other = NewUser("twin");
        var otherHub = federation.Mint("usa", other);
        var otherSpoke = federation.Mint("rou", other);
        using var hubAdmin = federation.Backend("usa", federation.MintAdmin());
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(hubAdmin, "/api/auth/revoke", $$"""{"uniqueID":"{{other}}","realm":"ROU"}""")).Status);
        await EventuallyAsync(async () => await WhoAmIAsync(federation, "usa", otherSpoke) == HttpStatusCode.Unauthorized, "hub admin revoked the ROU user");
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "usa", otherHub));
    }

    [Fact]
    public async Task A_pending_OTP_secret_is_returned_to_its_owner_only()
    {
        var name = NewUser("otp-owner");
        using var owner = federation.Backend("usa", federation.Mint("usa", name));
        var (setup, _) = await PostAsync(owner, "/api/auth/otp/setup");
        Assert.Equal(HttpStatusCode.OK, setup);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(owner, $"/api/auth/otp/pending-secret/{name}")).Status);

        // The same name in ROU's realm is another person; admins of any realm do not read it either.
        foreach (var token in new[] { federation.Mint("rou", name), federation.Mint("rou", NewUser("admin-rou"), roles: ["dive-admin"]), federation.MintAdmin() })
        {
            using var other = federation.Backend("usa", token);
            var (status, body) = await GetAsync(other, $"/api/auth/otp/pending-secret/{name}");
            Assert.True(status is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"{(int)status} {body}");
            Assert.False(body.TryGetProperty("secret", out _), body.ToString());
        }
    }
}
