using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiveAspire.Backend.FederatedSearch;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Integration;

[Collection(FederationCollection.Name)]
public sealed class FederatedSearchTests(FederationFixture federation)
{
    private static readonly string[] Codes = ["usa", "rou", "bel"];

    /// <summary>Uploads one document with a unique word on each instance and returns that word.</summary>
    private async Task<string> SeedAsync(params string[] codes)
    {
        var word = "fs" + Guid.NewGuid().ToString("N")[..10];
        foreach (var code in codes)
        {
            using var http = federation.Backend(code, federation.Mint(code, "uploader-" + code));
            using var response = await http.PostAsJsonAsync("/api/upload", new
            {
                resourceId = $"{code.ToUpperInvariant()}-{word}", title = $"Exercise {word} plan", classification = "nato unclassified",
                releasabilityTo = new[] { "USA", "ROU", "BEL" }, coi = Array.Empty<string>(),
            });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        return word;
    }

    private async Task<JsonElement> SearchAsync(string code, string query)
    {
        using var http = federation.Backend(code, federation.Mint(code, "searcher"));
        using var response = await http.GetAsync($"/api/resources/federated-search?q={Uri.EscapeDataString(query)}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    [Fact]
    public async Task A_caller_sees_only_what_the_access_decision_allows_even_from_the_cache()
    {
        var word = "fsacl" + Guid.NewGuid().ToString("N")[..10];
        using (var bel = federation.Backend("bel", federation.Mint("bel", "uploader-bel")))
        {
            using var response = await bel.PostAsJsonAsync("/api/upload", new
            {
                resourceId = $"BEL-{word}", title = $"Restricted {word}", classification = "SECRET",
                releasabilityTo = new[] { "BEL" }, coi = Array.Empty<string>(),
            });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        async Task<string[]> IdsAsync(string code, string user, string country)
        {
            using var http = federation.Backend(code, federation.Mint(code, user, "SECRET", country: country));
            using var response = await http.GetAsync($"/api/resources/federated-search?q={word}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.JsonAsync()).GetProperty("results").EnumerateArray().Select(r => r.GetProperty("resourceId").GetString()!).ToArray();
        }
        Assert.Equal([$"BEL-{word}"], await IdsAsync("usa", "searcher-bel", "BEL"));
        // Same query, now answered from the cache: a USA user still does not see a document released to BEL only.
        Assert.Empty(await IdsAsync("usa", "searcher-usa", "USA"));
        // Nor by asking a peer's local search directly: it takes only a federation credential (was 200 with no
        // results before peers got their own credential; a user token is now refused outright).
        using var direct = federation.Backend("bel", federation.Mint("usa", "prober", "SECRET", country: "USA"));
        using var local = await direct.GetAsync($"/api/federation/local-search?q={word}");
        Assert.Equal(HttpStatusCode.Unauthorized, local.StatusCode);
    }

    [Fact]
    public async Task Results_come_from_every_instance_and_the_second_call_is_cached_for_60_s()
    {
        var word = await SeedAsync(Codes);
        var first = await SearchAsync("usa", word);
        Assert.False(first.GetProperty("cached").GetBoolean());
        Assert.True(first.GetProperty("stored").GetBoolean());
        Assert.Equal<string>(["BEL", "ROU", "USA"], first.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("instance").GetString()!).Order().ToArray());
        Assert.All(first.GetProperty("instances").EnumerateArray(), i => Assert.Equal("ok", i.GetProperty("status").GetString()));

        var second = await SearchAsync("usa", "  " + word.ToUpperInvariant() + " ");
        Assert.True(second.GetProperty("cached").GetBoolean());
        Assert.Equal(3, second.GetProperty("total").GetInt32());

        await using var redis = await federation.ConnectAsync("redis-usa");
        // The entry of the searcher's access attributes (SearchAsync mints SECRET, the instance's country, NATO).
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(FederatedSearchCache.Key(word, new("searcher", "SECRET", "USA", ["NATO"])));
        Assert.InRange(ttl!.Value.TotalSeconds, 50, 60);
    }

    [Fact]
    public async Task An_instance_error_is_reported_and_nothing_is_cached()
    {
        var word = await SeedAsync(Codes);
        await federation.ExecuteCommandAsync("backend-bel", KnownResourceCommands.StopCommand, TimeSpan.FromMinutes(1));
        try
        {
            var result = await SearchAsync("rou", word);
            Assert.False(result.GetProperty("cached").GetBoolean());
            Assert.False(result.GetProperty("stored").GetBoolean());
            var bel = result.GetProperty("instances").EnumerateArray().Single(i => i.GetProperty("instance").GetString() == "BEL");
            Assert.Equal("error", bel.GetProperty("status").GetString());
            Assert.Equal<string>(["ROU", "USA"], result.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("instance").GetString()!).Order().ToArray());
            await using var redis = await federation.ConnectAsync("redis-rou");
            Assert.False(await redis.GetDatabase().KeyExistsAsync(FederatedSearchCache.Key(word, new("searcher", "SECRET", "ROU", ["NATO"]))));
        }
        finally
        {
            await federation.StartAgainAsync("backend-bel", KnownResourceCommands.StartCommand, TimeSpan.FromMinutes(2));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("?q=")]
    public async Task A_missing_query_is_400(string query)
    {
        using var http = federation.Backend("usa", federation.Mint("usa", "searcher"));
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/api/resources/federated-search" + query)).StatusCode);
    }
}

/// <summary>The breaker needs Redis stopped and a short pause (3 s), so it runs on the rate-limit fixture.</summary>
[Collection(RateLimitCollection.Name)]
public sealed class FederatedSearchBreakerTests(RateLimitFixture app)
{
    /// <summary>The access attributes of "breaker-searcher" (the cache key's second half).</summary>
    private static readonly DiveAspire.Backend.Authorization.Subject Searcher = new("breaker-searcher", "SECRET", "USA", ["NATO"]);

    [Fact]
    public async Task The_breaker_opens_after_three_redis_errors_search_goes_on_uncached_and_it_recovers()
    {
        using var http = app.Backend("usa", app.Mint("usa", "breaker-searcher"));
        const string query = "report";
        await using var redis = await app.ConnectAsync("redis-usa");
        await redis.GetDatabase().KeyDeleteAsync(FederatedSearchCache.Key(query, Searcher));

        await app.ExecuteCommandAsync("redis-usa", KnownResourceCommands.StopCommand, TimeSpan.FromMinutes(1));
        try
        {
            var states = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                using var response = await http.GetAsync($"/api/resources/federated-search?q={query}");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var body = await response.JsonAsync();
                Assert.False(body.GetProperty("cached").GetBoolean());
                Assert.False(body.GetProperty("stored").GetBoolean());
                // Results still arrive from both instances (the seed catalogs), uncached.
                Assert.Contains(body.GetProperty("results").EnumerateArray(), r => r.GetProperty("instance").GetString() == "ROU");
                Assert.Contains(body.GetProperty("results").EnumerateArray(), r => r.GetProperty("instance").GetString() == "USA");
                states.Add(body.GetProperty("breaker").GetString()!);
            }
            Assert.Equal("open", states[^1]);
        }
        finally
        {
            await app.StartAgainAsync("redis-usa", KnownResourceCommands.StartCommand, TimeSpan.FromMinutes(2));
        }

        // After the 3 s pause a trial goes through, succeeds, closes the breaker and caches again.
        await HttpAssertions.EventuallyAsync(async () =>
        {
            var body = await (await http.GetAsync($"/api/resources/federated-search?q={query}")).JsonAsync();
            return body.GetProperty("breaker").GetString() == "closed" && (body.GetProperty("stored").GetBoolean() || body.GetProperty("cached").GetBoolean());
        }, TimeSpan.FromSeconds(60), "breaker closed and results cached");
        await using var after = await app.ConnectAsync("redis-usa");
        Assert.True(await after.GetDatabase().KeyExistsAsync(FederatedSearchCache.Key(query, Searcher)));
    }
}
