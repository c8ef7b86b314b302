using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Instance;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// A remote spoke's revocations (<see cref="RevocationOptions.Relay"/>, the hub backend's URL): the spoke's user on the
/// shared store is read-only, so logout, revoke and blacklist-token go to the same endpoint on the hub's backend with the
/// caller's own bearer token and body, plus this backend's <see cref="RelayCredentials"/>. The hub authorizes and writes
/// exactly as for a local caller (its store only lengthens revocations), and its answer, status and JSON, is the caller's.
/// Once the hub acknowledged, the revocation is in this backend's cache at once (its subscriber also hears the hub's
/// message). The hub unreachable, or no answer within the resilience pipeline's timeouts, is a 503: never an acknowledgement.
/// </summary>
public sealed class RevocationRelay(
    HttpClient http, RelayCredentials credentials, RevocationCache cache, InstanceInfo instance, RevocationOptions options, TimeProvider clock,
    ILogger<RevocationRelay> logger)
{
    /// <summary>Each attempt; the whole call (retries of <see cref="HubDidNotAnswer"/> included) ends after <see cref="TotalTimeout"/>.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(5);
    private const int MaxBodyBytes = 16 * 1024;

    /// <summary>
    /// Whether an attempt got no answer from the hub's backend itself, so that it is worth another: a refused, broken or
    /// timed-out connection, a timed-out attempt, a gateway in front of the hub reporting one (502, 504), or a 503
    /// without Retry-After (a gateway's, or the hub's generic outage answer; resending a revocation is harmless). The
    /// hub's revocation answers are final and go to the caller as they are: its 503 (the store refused or did not
    /// confirm the write) and its 429 (the realm's window) carry a Retry-After that used to hold the retry past the total
    /// timeout and turn them into "the hub's backend did not answer".
    /// </summary>
    public static bool HubDidNotAnswer(Outcome<HttpResponseMessage> attempt) => attempt switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Exception: OperationCanceledException { InnerException: TimeoutException } } => true, // a connect timeout
        { Result: { } response } => response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout
            || (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter is null),
        _ => false,
    };

    public async Task<IResult> ForwardAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await ReadBodyAsync(request);
        if (body is null)
        {
            return RevocationResults.TooLarge($"Request body must be at most {MaxBodyBytes} bytes");
        }
        // The endpoint required an authenticated caller, so the request has its bearer token.
        var bearer = RelayCredentials.BearerOf(request)!;
        var path = request.Path.Value!;
        using var message = new HttpRequestMessage(HttpMethod.Post, path);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (credentials.Issue(bearer, path) is { } relay)
        {
            message.Headers.TryAddWithoutValidation(RelayCredentials.Header, relay);
        }
        if (body.Length > 0)
        {
            message.Content = new ByteArrayContent(body);
            if (MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType))
            {
                message.Content.Headers.ContentType = contentType;
            }
        }
        try
        {
            using var response = await http.SendAsync(message, context.RequestAborted);
            var answer = await response.Content.ReadAsStringAsync(context.RequestAborted);
            if (!IsJsonObject(answer))
            {
                logger.LogWarning("The hub answered a relayed revocation with HTTP {Status} and no JSON object", (int)response.StatusCode);
                return Wire.Json(new ErrorBody("Bad Gateway", $"The hub answered HTTP {(int)response.StatusCode} without a JSON body; the revocation may not be recorded. Retry."),
                    statusCode: StatusCodes.Status502BadGateway);
            }
            if (response.IsSuccessStatusCode)
            {
                Remember(path, context.User, body, answer);
            }
            if (response.Headers.RetryAfter is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = retryAfter.ToString();
            }
            return Results.Content(answer, "application/json", Encoding.UTF8, (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
            || (ex is OperationCanceledException && !context.RequestAborted.IsCancellationRequested))
        {
            logger.LogWarning("A revocation could not be relayed to the hub: {Error}", ex.GetType().Name);
            context.Response.Headers.RetryAfter = "5";
            // An attempt that timed out may still have been written by the hub: "may not", and a retry is harmless.
            return RevocationResults.Unavailable("The hub's backend did not answer; the revocation may not have been recorded. Retry.");
        }
    }

    /// <summary>The body, or null when it is larger than the hub would take (the same limit as a local revocation's).</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
            {
                return null;
            }
        }
        return buffer.ToArray();
    }

    private static bool IsJsonObject(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// What the hub acknowledged, into this backend's cache with the expiry the hub's store holds; only the revocations this
    /// request asked for (the caller's own jti and user key, the jti or user named in its body), each at most as long as a
    /// revocation can last, so an answer that is not the hub's (on an unprotected network) cannot revoke anyone else here.
    /// </summary>
    private void Remember(string path, ClaimsPrincipal caller, byte[] body, string answer)
    {
        using var document = JsonDocument.Parse(answer);
        var root = document.RootElement;
        var asked = AskedFor(body);
        switch (path.TrimEnd('/').Split('/')[^1].ToLowerInvariant())
        {
            case "logout":
                Add(RevocationKind.Token, String(root, "jti"), caller.Jti(), Time(root, "tokenRevokedUntil"));
                Add(RevocationKind.User, String(root, "user"), caller.UserId(), Time(root, "userRevokedUntil"));
                break;
            case "revoke" when String(root, "realm") is { } realm && String(root, "uniqueID") is { } subject:
                var expected = asked.UniqueId is { } target
                    ? DiveClaims.UserKey((asked.Realm ?? caller.Realm() ?? "").Trim().ToUpperInvariant(), (asked.Realm ?? caller.Realm() ?? "").Trim().ToUpperInvariant() == instance.Hub, target)
                    : caller.UserId();
                Add(RevocationKind.User, DiveClaims.UserKey(realm, realm == instance.Hub, subject), expected, Time(root, "expiresAt"));
                break;
            case "blacklist-token":
                Add(RevocationKind.Token, String(root, "jti"), asked.Jti, Time(root, "expiresAt"));
                break;
        }
    }

    private void Add(RevocationKind kind, string? identifier, string? expected, DateTimeOffset? expiresAt)
    {
        if (identifier is { Length: > 0 } && identifier == expected && expiresAt is { } until)
        {
            // No revocation outlives the longest token (user revocations: 24 h) plus the check's skew and margin.
            var longest = clock.GetUtcNow() + (options.MaxTokenLifetime > MaxUserRevocation ? options.MaxTokenLifetime : MaxUserRevocation)
                + RevocationKeys.ValidationClockSkew + RevocationKeys.ExpiryMargin;
            cache.Add(kind, identifier, until < longest ? until : longest);
        }
    }

    private static readonly TimeSpan MaxUserRevocation = TimeSpan.FromHours(24);

    /// <summary>The targets the caller's body names (null where it names none or is not a JSON object).</summary>
    private static (string? Jti, string? UniqueId, string? Realm) AskedFor(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                ? (String(root, "jti"), String(root, "uniqueID") is { } id && !string.IsNullOrWhiteSpace(id) ? id : null, String(root, "realm"))
                : (null, null, null);
        }
        catch (JsonException)
        {
            return (null, null, null);
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static DateTimeOffset? Time(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var time) ? time : null;
}
