using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiveAspire.Tests.Infrastructure;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Security;

/// <summary>What a federation peer receives from a federated search can be used for nothing else, and the shared cache serves every caller right.</summary>
[Collection(SecurityCollection.Name)]
[Trait("Category", "Security")]
public sealed class FederationCredentialTests(SecurityFixture federation)
{
    [Fact]
    public async Task A_peer_cannot_replay_what_a_hub_admins_federated_search_sent_it()
    {
        var before = federation.Peer.Credentials.Count;
        using (var admin = federation.Backend("usa", federation.MintAdmin()))
        {
            using var search = await admin.GetAsync($"/api/resources/federated-search?q=replay{Guid.NewGuid():N}");
            Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        }
        var received = federation.Peer.Credentials.Skip(before).ToList();
        Assert.NotEmpty(received);
        // Sent as "DiveFederation <jwt>", never as the caller's bearer token; replayed both ways.
        var (scheme, credential) = (received[^1].Split(' ', 2)[0], received[^1].Split(' ', 2)[1]);
        Assert.Equal("DiveFederation", scheme);

        foreach (var (code, asScheme) in new[] { "usa", "rou" }.SelectMany(c => new[] { (c, "Bearer"), (c, scheme) }))
        {
            using var replay = federation.Backend(code);
            replay.DefaultRequestHeaders.Authorization = new(asScheme, credential);
            foreach (var (method, path, body) in new (string, string, string?)[]
            {
                ("POST", "/api/blacklist/sync", ""),
                ("GET", "/api/blacklist/stats", null),
                ("POST", "/api/auth/revoke", """{"uniqueID":"testuser-usa-1"}"""),
                ("POST", "/api/auth/logout", ""),
                ("GET", "/api/auth/whoami", null),
                ("GET", "/api/resources", null),
                ("GET", "/api/resources/federated-search?q=x", null),
                ("GET", "/api/federation/local-search?q=x", null),
            })
            {
                var (status, json) = await SendAsync(replay, new HttpMethod(method), path, body);
                Assert.True(status == HttpStatusCode.Unauthorized, $"{method} {path} on {code} with the credential a peer received ({asScheme}): {(int)status} {json}");
            }
        }
    }

    [Fact]
    public async Task Callers_with_different_clearances_get_their_own_answer_from_the_shared_cache()
    {
        var word = "fssec" + Guid.NewGuid().ToString("N")[..10];
        using (var rou = federation.Backend("rou", federation.Mint("rou", "uploader-rou", "SECRET")))
        {
            using var upload = await rou.PostAsJsonAsync("/api/upload", new
            {
                resourceId = $"ROU-{word}", title = $"Secret {word}", classification = "SECRET",
                releasabilityTo = new[] { "USA", "ROU" }, coi = Array.Empty<string>(),
            });
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }
        async Task<JsonElement> SearchAsync(string clearance)
        {
            using var http = federation.Backend("usa", federation.Mint("usa", $"searcher-{clearance}", clearance));
            using var response = await http.GetAsync($"/api/resources/federated-search?q={word}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.JsonAsync();
        }
        string[] Ids(JsonElement body) => body.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("resourceId").GetString()!).ToArray();

        Assert.Empty(Ids(await SearchAsync("UNCLASSIFIED")));
        Assert.Equal([$"ROU-{word}"], Ids(await SearchAsync("SECRET")));
        Assert.Equal([$"ROU-{word}"], Ids(await SearchAsync("TOP_SECRET")));
        var again = await SearchAsync("UNCLASSIFIED");
        Assert.Empty(Ids(again));
        Assert.True(again.GetProperty("cached").GetBoolean());
    }
}
