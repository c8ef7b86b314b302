using System.Net;
using System.Text;
using System.Text.Json;

namespace DiveAspire.Tests.Security;

/// <summary>One request exactly as a hostile client writes it (any Content-Type, any bytes), and what came back.</summary>
public sealed record RawResponse(string Request, HttpStatusCode Status, string? ContentType, string Body)
{
    public int Code => (int)Status;

    /// <summary>Why this response breaks the bad-input rule (no 5xx; an error is JSON with a string "error" and a message), else null.</summary>
    public string? Violation()
    {
        if (Code >= 500)
        {
            return $"{Request} -> {Code} (a server error for a client's input): {Truncate(Body)}";
        }
        if (Code < 400)
        {
            return null;
        }
        try
        {
            var json = JsonDocument.Parse(Body).RootElement;
            var error = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String;
            // OAuth endpoints answer RFC 6749 errors (error_description); every other error carries "message".
            var message = json.ValueKind == JsonValueKind.Object
                && (json.TryGetProperty("message", out var m) || json.TryGetProperty("error_description", out m)) && m.ValueKind == JsonValueKind.String;
            return error && message ? null : $"{Request} -> {Code} without \"error\" and a message: {Truncate(Body)}";
        }
        catch (JsonException)
        {
            return $"{Request} -> {Code} with a body that is not JSON ({ContentType}): '{Truncate(Body)}'";
        }
    }

    private static string Truncate(string text) => text.Length > 300 ? text[..300] + "..." : text;
}

public static class RawRequests
{
    public static async Task<RawResponse> SendAsync(HttpClient http, string method, string path, string? contentType = null, byte[]? body = null,
        string? token = null, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }
        // A client that sends a large body waits for the server's go-ahead (as curl does): a refusal (413) arrives
        // before the body, instead of a reset connection halfway through sending it.
        request.Headers.ExpectContinue = body is { Length: > 16 * 1024 };
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var description = $"{method} {path} [{contentType ?? "no content type"}, {body?.Length.ToString() ?? "no"} body bytes{(body is { Length: > 0 and <= 80 } ? ": " + Encoding.UTF8.GetString(body) : "")}]";
        return new RawResponse(description, response.StatusCode, response.Content.Headers.ContentType?.ToString(), text);
    }

    public static Task<RawResponse> SendAsync(HttpClient http, string method, string path, string contentType, string body, string? token = null) =>
        SendAsync(http, method, path, contentType, Encoding.UTF8.GetBytes(body), token);
}
