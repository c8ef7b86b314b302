using System.Net;
using DiveAspire.Tests.Infrastructure;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Integration;

/// <summary>A federation (hub + ROU) whose shared store the tests stop and start, in one failure mode.</summary>
public abstract class RevocationOutageFixture(string failureMode) : FederationFixture
{
    public string FailureMode { get; } = failureMode;
    public override string Spokes => "rou";
    protected override IEnumerable<string> ExtraArgs => [$"Dive:Revocation:FailureMode={FailureMode}"];
}

public sealed class FailOpenFixture() : RevocationOutageFixture("open");
public sealed class FailClosedFixture() : RevocationOutageFixture("closed");

[CollectionDefinition(Name)]
public sealed class FailOpenCollection : ICollectionFixture<FailOpenFixture>
{
    public const string Name = "revocation-fail-open";
}

[CollectionDefinition(Name)]
public sealed class FailClosedCollection : ICollectionFixture<FailClosedFixture>
{
    public const string Name = "revocation-fail-closed";
}

/// <summary>Shared steps: stop the store, check what a spoke does, start it again, check it recovers.</summary>
public abstract class RevocationOutageTests(RevocationOutageFixture federation)
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    protected async Task RunOutageAsync(Func<string, string, Task> whileStopped)
    {
        // Known before the outage: revoked over pub/sub while the store was up.
        var revoked = federation.Mint("usa", $"testuser-usa-{Guid.NewGuid():N}"[..24]);
        using (var usa = federation.Backend("usa", revoked))
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/logout")).Status);
        }
        await EventuallyAsync(async () => await WhoAmIAsync(federation, "rou", revoked) == HttpStatusCode.Unauthorized, "logout reached ROU");
        var unknown = federation.Mint("usa", $"testuser-usa-{Guid.NewGuid():N}"[..24]);
        Assert.Equal("healthy", await HealthStatusAsync(federation, "rou"));

        await federation.ExecuteCommandAsync("redis-blacklist", KnownResourceCommands.StopCommand, CommandTimeout);
        try
        {
            await EventuallyAsync(async () => await HealthStatusAsync(federation, "rou") == "degraded", "ROU /health degraded");
            using (var http = federation.Backend("rou"))
            {
                var detail = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/health/detailed")).RootElement
                    .GetProperty("dependencies").GetProperty("revocation");
                Assert.Equal("degraded", detail.GetProperty("status").GetString());
                Assert.Equal(federation.FailureMode, detail.GetProperty("data").GetProperty("failureMode").GetString());
            }

            // Known revocations are enforced whatever the mode.
            using (var http = federation.Backend("rou", revoked))
            {
                var (status, body) = await GetAsync(http, "/api/resources");
                Assert.Equal(HttpStatusCode.Unauthorized, status);
                Assert.Equal("Token has been revoked", Message(body));
            }

            await whileStopped(revoked, unknown);

            // Revoking while the store is down is refused, not silently dropped.
            using (var http = federation.Backend("usa", federation.MintAdmin()))
            {
                var (status, body) = await PostAsync(http, "/api/auth/revoke", """{"uniqueID":"testuser-usa-outage"}""");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                Assert.Equal("Service Unavailable", body.GetProperty("error").GetString());
            }
        }
        finally
        {
            await federation.StartAgainAsync("redis-blacklist", KnownResourceCommands.StartCommand, CommandTimeout);
        }

        await EventuallyAsync(async () => await HealthStatusAsync(federation, "rou") == "healthy", "ROU /health healthy again", TimeSpan.FromSeconds(60));
        await EventuallyAsync(async () => await HealthStatusAsync(federation, "usa") == "healthy", "USA /health healthy again", TimeSpan.FromSeconds(60));

        // The acknowledged revocation survived the store's restart (AOF, fsync always), and nothing refused was recorded.
        await using var redis = await federation.ConnectAsync("redis-blacklist");
        Assert.True(await redis.GetDatabase().KeyExistsAsync($"blacklist:{new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(revoked).Id}"));
        Assert.False(await redis.GetDatabase().KeyExistsAsync("user-revoked:testuser-usa-outage"));
        Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIAsync(federation, "rou", revoked));
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "rou", unknown));

        // And revocation works again end to end.
        using (var usa = federation.Backend("usa", unknown))
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/logout")).Status);
        }
        await EventuallyAsync(async () => await WhoAmIAsync(federation, "rou", unknown) == HttpStatusCode.Unauthorized, "post-outage logout reached ROU", TimeSpan.FromSeconds(5));
    }
}

[Collection(FailOpenCollection.Name)]
public sealed class RevocationFailOpenTests(FailOpenFixture federation) : RevocationOutageTests(federation)
{
    [Fact]
    public Task Store_down_fail_open_serves_unknown_tokens_enforces_known_revocations_and_recovers() =>
        RunOutageAsync(async (_, unknown) =>
            Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "rou", unknown)));
}

[Collection(FailClosedCollection.Name)]
public sealed class RevocationFailClosedTests(FailClosedFixture federation) : RevocationOutageTests(federation)
{
    [Fact]
    public Task Store_down_fail_closed_refuses_unknown_tokens_with_503_and_recovers() =>
        RunOutageAsync(async (_, unknown) =>
        {
            using var http = federation.Backend("rou", unknown);
            var (status, body) = await GetAsync(http, "/api/resources");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("Service Unavailable", body.GetProperty("error").GetString());
            Assert.Equal("Token revocation status cannot be verified: the shared revocation store is unreachable", Message(body));
        });
}
