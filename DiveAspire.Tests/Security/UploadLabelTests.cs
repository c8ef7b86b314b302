using System.Net;
using System.Text.Json;
using DiveAspire.Tests.Infrastructure;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Security;

/// <summary>
/// Issue 12, labels: an upload never replaces another originator's document, never lowers a classification and never
/// labels above the uploader's clearance; relabelling is an admin action of the originating instance, logged and counted.
/// </summary>
[Trait("Category", "Security")]
[Collection(BadInputCollection.Name)]
public sealed class UploadLabelTests(BadInputFixture federation)
{
    private const string Code = BadInputFixture.Code;
    private const string Relabels = "dive_v3_resource_relabels_total";

    private HttpClient Uploader(string clearance, bool admin = false, string issuer = Code) => federation.Backend(Code,
        federation.Mint(issuer, (admin ? "admin-" : "up-") + Guid.NewGuid().ToString("N")[..10], clearance, roles: admin ? ["dive-admin"] : null));

    private static Task<(HttpStatusCode Status, JsonElement Body)> UploadAsync(HttpClient http, string id, string classification,
        string title = "t", string[]? releasableTo = null, string[]? coi = null) =>
        PostAsync(http, "/api/upload", JsonSerializer.Serialize(new { resourceId = id, title, classification, releasabilityTo = releasableTo ?? ["USA", "ROU"], coi = coi ?? [] }));

    private async Task<string?> ClassificationOfAsync(string id)
    {
        using var http = federation.Backend(Code, federation.Mint(Code, "reader", "TOP_SECRET", coi: ["NATO"]));
        var (status, body) = await GetAsync(http, "/api/resources");
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("resources").EnumerateArray().Where(r => r.GetProperty("id").GetString() == id)
            .Select(r => r.GetProperty("classification").GetString()).FirstOrDefault();
    }

    [Fact]
    public async Task An_unclassified_user_cannot_relabel_a_top_secret_document_as_unclassified()
    {
        var refusedBefore = await MetricAsync(federation, Code, Relabels + "{outcome=\"refused\"}");
        using var http = Uploader("UNCLASSIFIED");
        var (status, body) = await UploadAsync(http, "ROU-TOP_SECRET-001", "UNCLASSIFIED", "Now everyone reads it");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("Forbidden", body.GetProperty("error").GetString());
        Assert.Equal("TOP_SECRET", await ClassificationOfAsync("ROU-TOP_SECRET-001"));
        Assert.Equal(refusedBefore + 1, await MetricAsync(federation, Code, Relabels + "{outcome=\"refused\"}"));
    }

    [Fact]
    public async Task Nobody_labels_a_document_above_their_own_clearance()
    {
        using var http = Uploader("SECRET");
        var (status, body) = await UploadAsync(http, "ROU-above-" + Guid.NewGuid().ToString("N")[..8], "TOP_SECRET");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("clearance", Message(body));
        using var admin = Uploader("SECRET", admin: true);
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(admin, "ROU-above-" + Guid.NewGuid().ToString("N")[..8], "COSMIC_TOP_SECRET")).Status);
    }

    [Fact]
    public async Task A_user_may_replace_a_document_keeping_its_label_but_only_an_admin_of_this_instance_relabels_it()
    {
        var id = "ROU-label-" + Guid.NewGuid().ToString("N")[..8];
        using var owner = Uploader("SECRET");
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(owner, id, "SECRET", "first")).Status);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(owner, id, "secret", "second edition")).Status);

        // Lowering, raising, or changing releasability or COI is a relabel.
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(owner, id, "CONFIDENTIAL")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(Uploader("TOP_SECRET"), id, "TOP_SECRET")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(owner, id, "SECRET", releasableTo: ["USA", "ROU", "BEL", "DNK"])).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(owner, id, "SECRET", coi: ["FVEY"])).Status);
        // An admin of another instance's realm is not this instance's admin.
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(Uploader("TOP_SECRET", admin: true, issuer: "usa"), id, "CONFIDENTIAL")).Status);
        Assert.Equal("SECRET", await ClassificationOfAsync(id));

        var appliedBefore = await MetricAsync(federation, Code, Relabels + "{outcome=\"applied\"}");
        using var admin = Uploader("TOP_SECRET", admin: true);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(admin, id, "CONFIDENTIAL", "declassified")).Status);
        Assert.Equal("CONFIDENTIAL", await ClassificationOfAsync(id));
        Assert.Equal(appliedBefore + 1, await MetricAsync(federation, Code, Relabels + "{outcome=\"applied\"}"));
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(federation.RecentLogs("backend-" + Code, 200).Contains(id)),
            TimeSpan.FromSeconds(10), "the relabel in the backend's log");
    }

    [Fact]
    public async Task An_upload_never_replaces_a_document_of_another_originator()
    {
        var id = "USA-mirrored-" + Guid.NewGuid().ToString("N")[..8];
        await using (var redis = await federation.ConnectAsync("redis-" + Code))
        {
            // A document this instance holds for another originator (e.g. mirrored): its id and label are the originator's.
            var foreign = JsonSerializer.Serialize(new { ResourceId = id, Title = "USA plan", Classification = "SECRET", ReleasabilityTo = new[] { "USA", "ROU" }, Coi = Array.Empty<string>(), Instance = "USA" });
            await redis.GetDatabase().HashSetAsync("dive-v3:resources", id, foreign);
        }
        foreach (var http in new[] { Uploader("SECRET"), Uploader("TOP_SECRET", admin: true) })
        {
            using (http)
            {
                var (status, body) = await UploadAsync(http, id, "SECRET", "replaced");
                Assert.Equal(HttpStatusCode.Forbidden, status);
                Assert.Contains("USA", Message(body));
            }
        }
    }
}
