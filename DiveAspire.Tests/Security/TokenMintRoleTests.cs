using System.Net;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Security;

/// <summary>`dive token mint --role`: an operator mints an admin token in process runtime; the realm decides what it administers.</summary>
[Collection(FederationCollection.Name)]
[Trait("Category", "Security")]
public sealed class TokenMintRoleTests(FederationFixture federation) : FederationCliTests(federation)
{
    private async Task<HttpStatusCode> SyncAsync(string backend, params string[] mintArgs)
    {
        var token = (await Dive(["token", "mint", "--user", $"op-{Guid.NewGuid():N}"[..20], .. mintArgs])).Expect(0).Out.Trim();
        using var http = Federation.Backend(backend, token);
        return (await PostAsync(http, "/api/blacklist/sync")).Status;
    }

    [Fact]
    public async Task A_minted_admin_administers_its_realms_backend_and_the_hubs_every_backend()
    {
        Assert.Equal(HttpStatusCode.Forbidden, await SyncAsync("usa"));
        Assert.Equal(HttpStatusCode.OK, await SyncAsync("usa", "--role", "dive-admin"));
        Assert.Equal(HttpStatusCode.OK, await SyncAsync("rou", "--role", "dive-admin", "--role", "auditor"));
        Assert.Equal(HttpStatusCode.OK, await SyncAsync("rou", "--instance", "rou", "--role", "dive-admin"));
        Assert.Equal(HttpStatusCode.Forbidden, await SyncAsync("usa", "--instance", "rou", "--role", "dive-admin"));
        Assert.Equal(HttpStatusCode.Forbidden, await SyncAsync("bel", "--instance", "rou", "--role", "dive-admin"));
    }
}
