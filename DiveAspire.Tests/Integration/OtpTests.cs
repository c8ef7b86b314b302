using System.Net;
using System.Net.Http.Json;
using DiveAspire.Backend.Otp;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Integration;

[Collection(FederationCollection.Name)]
public sealed class OtpTests(FederationFixture federation)
{
    private static string NewUser() => "otp-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Setup_keeps_a_pending_secret_600_s_that_a_valid_code_confirms()
    {
        var user = NewUser();
        using var http = federation.Backend("bel", federation.Mint("bel", user));
        var setup = await (await http.PostAsync("/api/auth/otp/setup", null)).JsonAsync();
        var secret = setup.GetProperty("secret").GetString()!;
        Assert.Equal(600, setup.GetProperty("expiresIn").GetInt32());
        Assert.StartsWith("otpauth://totp/", setup.GetProperty("otpauthUrl").GetString());

        await using var redis = await federation.ConnectAsync("redis-bel");
        // A BEL-realm user: the key is realm-qualified (issue 12).
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync($"otp:pending:BEL:{user}");
        Assert.InRange(ttl!.Value.TotalSeconds, 590, 600);

        var pending = await (await http.GetAsync($"/api/auth/otp/pending-secret/{user}")).JsonAsync();
        Assert.Equal(secret, pending.GetProperty("secret").GetString());
        Assert.InRange(pending.GetProperty("expiresIn").GetInt32(), 590, 600);

        using var wrong = await http.PostAsJsonAsync("/api/auth/otp/verify", new { code = "000000" == Totp.Code(secret, DateTimeOffset.UtcNow) ? "111111" : "000000" });
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        using var right = await http.PostAsJsonAsync("/api/auth/otp/verify", new { code = Totp.Code(secret, DateTimeOffset.UtcNow) });
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/auth/otp/pending-secret/{user}")).StatusCode);
    }

    [Fact]
    public async Task Read_and_delete_are_404_when_there_is_no_pending_secret()
    {
        var user = NewUser();
        using var http = federation.Backend("bel", federation.Mint("bel", user));
        using var missing = await http.GetAsync($"/api/auth/otp/pending-secret/{user}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Not Found", (await missing.JsonAsync()).GetProperty("error").GetString());

        (await http.PostAsync("/api/auth/otp/setup", null)).EnsureSuccessStatusCode();
        using var deleted = await http.DeleteAsync($"/api/auth/otp/pending-secret/{user}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/auth/otp/pending-secret/{user}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync($"/api/auth/otp/pending-secret/{user}")).StatusCode);
    }

    [Fact]
    public async Task Only_the_user_sees_a_pending_secret()
    {
        var user = NewUser();
        using var owner = federation.Backend("bel", federation.Mint("bel", user));
        (await owner.PostAsync("/api/auth/otp/setup", null)).EnsureSuccessStatusCode();
        using var other = federation.Backend("bel", federation.Mint("bel", NewUser()));
        Assert.Equal(HttpStatusCode.Forbidden, (await other.GetAsync($"/api/auth/otp/pending-secret/{user}")).StatusCode);
        // Issue 12: the secret goes to its owner only (operators read it before, of any realm).
        using var admin = federation.Backend("bel", federation.MintAdmin("bel"));
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync($"/api/auth/otp/pending-secret/{user}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/auth/otp/pending-secret/{user}")).StatusCode);
    }

    [Fact]
    public async Task Setup_is_under_the_strict_limiter_3_per_hour()
    {
        using var http = federation.Backend("bel", federation.Mint("bel", NewUser()));
        for (var i = 0; i < 3; i++)
        {
            using var ok = await http.PostAsync("/api/auth/otp/setup", null);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", ok.Header("RateLimit-Limit"));
        }
        using var blocked = await http.PostAsync("/api/auth/otp/setup", null);
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.InRange(long.Parse(blocked.Header("Retry-After")), 3000, 3600);
    }
}
