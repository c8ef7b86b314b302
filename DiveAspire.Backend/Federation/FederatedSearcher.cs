using System.Security.Claims;
// Folder Federation/, namespace FederatedSearch: a namespace named Federation would hide DiveAspire.Topology.Federation in every DiveAspire.Backend.* file.
using System.Net.Http.Json;
using DiveAspire.Backend.Catalog;
using DiveAspire.Backend.Instance;

namespace DiveAspire.Backend.FederatedSearch;

/// <summary>
/// Searches this instance's catalog and every other instance of the federation (service discovery), and merges. Each
/// peer gets its own <see cref="FederationCredentials"/> credential for the caller, never the caller's token.
/// </summary>
public sealed class FederatedSearcher(ResourceCatalog catalog, InstanceInfo instance, FederationCredentials credentials, IHttpClientFactory clients, ILogger<FederatedSearcher> logger)
{
    public const string HttpClientName = "federation";
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(5);

    public static Uri PeerAddress(string code) => new($"https+http://backend-{code.ToLowerInvariant()}");

    public async Task<SearchOutcome> SearchAsync(string query, ClaimsPrincipal caller, CancellationToken ct)
    {
        var local = SearchLocalAsync(query);
        var peers = instance.Federation.Where(code => code != instance.Code).Select(code => SearchPeerAsync(code, query, credentials.Issue(caller, code), ct));
        var answers = await Task.WhenAll(peers.Prepend(local));
        return new SearchOutcome(
            query,
            [.. answers.Select(a => a.Summary)],
            [.. answers.SelectMany(a => a.Results).OrderBy(r => r.Instance, StringComparer.Ordinal).ThenBy(r => r.ResourceId, StringComparer.Ordinal)]);
    }

    private async Task<(InstanceResult Summary, IReadOnlyList<Resource> Results)> SearchLocalAsync(string query)
    {
        var results = await catalog.SearchAsync(query);
        return (new InstanceResult(instance.Code, "ok", results.Count, null), results);
    }

    private async Task<(InstanceResult Summary, IReadOnlyList<Resource> Results)> SearchPeerAsync(string code, string query, string? credential, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(PeerTimeout);
        try
        {
            var http = clients.CreateClient(HttpClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(PeerAddress(code), $"{FederationCredentials.LocalSearchPath}?q={Uri.EscapeDataString(query)}"));
            if (credential is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", $"{FederationCredentials.AuthorizationScheme} {credential}");
            }
            using var response = await http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (new InstanceResult(code, "error", 0, $"HTTP {(int)response.StatusCode}"), []);
            }
            var body = await response.Content.ReadFromJsonAsync(WireJson.Default.LocalSearchResponse, timeout.Token);
            var results = body?.Results ?? [];
            return (new InstanceResult(code, "ok", results.Count, null), results);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException or InvalidOperationException)
        {
            logger.LogWarning("Federated search: {Instance} failed ({Reason})", code, ex.GetType().Name);
            return (new InstanceResult(code, "error", 0, ex is OperationCanceledException ? "timeout" : ex.GetType().Name), []);
        }
    }
}
