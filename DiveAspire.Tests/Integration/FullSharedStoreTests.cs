using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using DiveAspire.Backend.Revocation;
using DiveAspire.Cli.Tokens;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// The shared store full: it never evicts (noeviction), so at its maxmemory it refuses every write. The real backend binary
/// on real redis-server processes.
/// </summary>
public sealed class FullSharedStoreTests
{
    [Fact]
    public async Task With_the_shared_store_full_a_logout_is_a_503_saying_so_and_the_token_stays_valid_until_there_is_room()
    {
        using var cache = new PlainRedisServer(password: true, aof: false);
        using var blacklist = new PlainRedisServer(password: true, aof: false, policy: "noeviction");
        var signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        using var backend = new BackendProcess(new Dictionary<string, string>
        {
            ["ConnectionStrings__cache"] = cache.BackendConnectionString,
            ["ConnectionStrings__blacklist"] = blacklist.BackendConnectionString,
            ["Dive__Auth__DevSigningKey"] = signingKey,
        });
        await backend.WaitReadyAsync(TimeSpan.FromSeconds(90));
        var token = DevTokenMinter.Mint(new(NatoCatalog.Hub, "full-store-user"), signingKey);

        await using var admin = await blacklist.ConnectAdminAsync();
        var store = admin.GetServers()[0];
        // Its memory in use is above 1 byte at once: a store that filled up.
        await store.ConfigSetAsync("maxmemory", 1);
        try
        {
            using var refused = await SendAsync(backend, HttpMethod.Post, "/api/auth/logout", token);
            var body = await refused.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains(RevocationStore.StoreFull, body, StringComparison.Ordinal);
            Assert.NotNull(refused.Headers.RetryAfter);
            // Not revoked.
            using (var whoami = await SendAsync(backend, HttpMethod.Get, "/api/auth/whoami", token))
            {
                Assert.Equal(HttpStatusCode.OK, whoami.StatusCode);
            }
            // The store still answers reads: a check the local cache cannot answer asks it.
            using (var check = await SendAsync(backend, HttpMethod.Get, $"/api/auth/check-blacklist/{Guid.NewGuid()}", token))
            {
                Assert.Equal(HttpStatusCode.OK, check.StatusCode);
            }
        }
        finally
        {
            await store.ConfigSetAsync("maxmemory", 0);
        }

        using (var logout = await SendAsync(backend, HttpMethod.Post, "/api/auth/logout", token))
        {
            Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
        }
        using (var revoked = await SendAsync(backend, HttpMethod.Get, "/api/auth/whoami", token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        }
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(backend.Output.Contains("refused by the shared store: it is full (OOM", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the backend's log line naming the full store");
        Assert.DoesNotContain(blacklist.Password!, backend.Output, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> SendAsync(BackendProcess backend, HttpMethod method, string path, string token)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await backend.Http.SendAsync(request);
    }
}
