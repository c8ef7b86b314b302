using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace DiveAspire.Cli.Operations;

public sealed record BlacklistSyncResult(string Instance, long Tokens, long Users);

public sealed record RateLimit(long Max, long WindowSeconds);

public sealed record RateLimitReport(
    string Instance,
    string Store,
    IReadOnlyDictionary<string, RateLimit> Limits,
    IReadOnlyDictionary<string, long> ActiveKeys,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Clients = null);

public sealed record RateLimitReset(string Ip, long KeysDeleted);

/// <summary>
/// Calls a backend's admin endpoints with an admin bearer token. Unreachable, rejected or malformed answers become one
/// line naming the backend; the token is never printed.
/// </summary>
public sealed class BackendOperations(string name, Uri baseAddress, string token, HttpMessageHandler? handler = null) : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly HttpClient _http = new(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(3) }, disposeHandler: handler is null)
    {
        BaseAddress = baseAddress,
        Timeout = Timeout,
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
    };

    public Task<BlacklistSyncResult> SyncBlacklistAsync(CancellationToken ct = default) =>
        SendAsync<BlacklistSyncResult>(HttpMethod.Post, "/api/blacklist/sync", ct);

    public Task<RateLimitReport> RateLimitsAsync(CancellationToken ct = default) =>
        SendAsync<RateLimitReport>(HttpMethod.Get, "/api/admin/rate-limits", ct);

    public Task<RateLimitReset> ResetRateLimitAsync(string ip, CancellationToken ct = default) =>
        SendAsync<RateLimitReset>(HttpMethod.Delete, $"/api/admin/rate-limits/{Uri.EscapeDataString(ip)}", ct);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(new HttpRequestMessage(method, path), ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException || ex.HttpRequestError == HttpRequestError.ConnectionError)
        {
            throw new CliException($"{name} is unreachable at {Authority} (connection refused). Is it running?");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CliException($"{name} at {Authority} did not answer {method} {path} within {Timeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"{name} at {Authority}: {method} {path} failed ({ex.HttpRequestError}).");
        }
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new CliException($"{name} rejected the admin token ({(int)response.StatusCode} {response.StatusCode}) for {method} {path}: it needs a valid token with role dive-admin (--token / DIVE_ADMIN_TOKEN, or the development signing key).");
            }
            if (response.StatusCode == HttpStatusCode.NotFound && typeof(T) != typeof(RateLimitReset))
            {
                throw new CliException($"{name} at {Authority} has no {method} {path} (404): is the backend up to date?");
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new CliException($"{name}: {method} {path} answered {(int)response.StatusCode} {response.StatusCode}{await DetailAsync(response, ct).ConfigureAwait(false)}.");
            }
            try
            {
                return await response.Content.ReadFromJsonAsync<T>(JsonSerializerOptions.Web, ct).ConfigureAwait(false)
                    ?? throw new CliException($"{name}: {method} {path} answered an empty body.");
            }
            catch (JsonException)
            {
                throw new CliException($"{name}: {method} {path} answered something that is not the expected JSON.");
            }
        }
    }

    private string Authority => _http.BaseAddress!.GetLeftPart(UriPartial.Authority);

    private static async Task<string> DetailAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(body);
            foreach (var field in new[] { "error", "detail", "title", "message" })
            {
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String)
                {
                    return $": {value.GetString()}";
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the status code alone is the message.
        }
        return "";
    }

    public void Dispose() => _http.Dispose();
}
