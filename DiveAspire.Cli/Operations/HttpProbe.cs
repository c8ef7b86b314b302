using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace DiveAspire.Cli.Operations;

/// <summary>The answer to one HTTP request: its status code and body, or why there was none.</summary>
public sealed record HttpAnswer(int? Status, string Body, string? Error)
{
    public bool Ok => Status is >= 200 and < 300;

    /// <summary>"200", or the reason nothing answered: for a check's detail.</summary>
    public string Describe() => Status is { } code ? $"{code}" : Error ?? "no answer";

    /// <summary>A string field of a JSON body (e.g. "status", "message"), or null.</summary>
    public string? Field(string name)
    {
        try
        {
            using var doc = JsonDocument.Parse(Body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// Plain HTTP requests for health probes and the federation checks (a user's token, not the admin token of
/// <see cref="BackendOperations"/>): never throws for a refused connection or a timeout, it answers with the reason.
/// </summary>
public sealed class HttpProbe : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2) }) { Timeout = Timeout };

    public Task<HttpAnswer> GetAsync(Uri uri, string? bearer = null, CancellationToken ct = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, uri), bearer, ct);

    public Task<HttpAnswer> PostJsonAsync<T>(Uri uri, T body, string? bearer = null, CancellationToken ct = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, uri) { Content = JsonContent.Create(body) }, bearer, ct);

    private async Task<HttpAnswer> SendAsync(HttpRequestMessage request, string? bearer, CancellationToken ct)
    {
        using (request)
        {
            if (bearer is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            }
            try
            {
                using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
                return new((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false), null);
            }
            catch (HttpRequestException ex)
            {
                return new(null, "", $"unreachable at {request.RequestUri!.GetLeftPart(UriPartial.Authority)} ({ex.HttpRequestError})");
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                return new(null, "", $"no answer from {request.RequestUri!.GetLeftPart(UriPartial.Authority)} within {Timeout.TotalSeconds:0} s");
            }
        }
    }

    public void Dispose() => _http.Dispose();
}
