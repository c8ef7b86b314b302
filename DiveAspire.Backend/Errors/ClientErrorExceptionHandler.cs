using Microsoft.AspNetCore.Diagnostics;
using DiveAspire.Backend.Redis;

namespace DiveAspire.Backend.Errors;

/// <summary>
/// Turns an exception that reached the top of the pipeline into a JSON error. A client's mistake (the framework's
/// <see cref="BadHttpRequestException"/>: binding failures, 413, 415; a malformed form or multipart body) is its 4xx with
/// one warning line and no stack trace; a body that cannot be read is a 400; a Redis outage is a 503 (<see cref="RedisFailures"/>),
/// logged as an outage (<see cref="RedisOutageLog"/>); anything else is a bug: 500 with no detail in the body, logged with
/// its stack trace.
/// </summary>
public sealed class ClientErrorExceptionHandler(ILogger<ClientErrorExceptionHandler> logger, RedisOutageLog outages) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        if (context.Response.HasStarted)
        {
            return false;
        }
        var request = $"{context.Request.Method} {context.Request.Path}";
        var outage = RedisFailures.Is(exception);
        var (status, message) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, ClientMessage(bad)),
            // ReadFormAsync: no or mismatched boundary, a section without Content-Disposition, a count or length limit.
            InvalidDataException invalid => (StatusCodes.Status400BadRequest, "The form body is malformed: " + invalid.Message),
            // A body that ends early (e.g. multipart whose boundary never comes); the backend does no other stream I/O.
            IOException => (StatusCodes.Status400BadRequest, "The request body ended before it was complete"),
            // The connection went away under the request (client gone, server abort): nobody reads this answer.
            Microsoft.AspNetCore.Connections.ConnectionAbortedException => (StatusCodes.Status400BadRequest, "The connection was aborted before the request was complete"),
            _ when outage => (StatusCodes.Status503ServiceUnavailable, "A Redis store did not answer; try again."),
            _ => (StatusCodes.Status500InternalServerError, "An unexpected error occurred"),
        };
        if (outage && status == StatusCodes.Status503ServiceUnavailable)
        {
            outages.Answered503(RouteOf(context), request, exception);
        }
        else if (status >= 500)
        {
            logger.LogError(exception, "{Request} failed", request);
        }
        else
        {
            logger.LogWarning("{Request} refused with {Status}: {Reason}", request, status, message);
        }
        context.Response.Clear();
        await JsonErrors.WriteAsync(context, status, message);
        return true;
    }

    /// <summary>The method and route pattern of the endpoint that failed (a bounded set, unlike paths), else "(no route)".</summary>
    private static string RouteOf(HttpContext context) =>
        $"{context.Request.Method} {(context.Features.Get<IExceptionHandlerFeature>()?.Endpoint as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)"}";

    /// <summary>The framework's reason, with the inner parser's detail when there is one (e.g. where the JSON breaks).</summary>
    private static string ClientMessage(BadHttpRequestException bad) =>
        bad.InnerException is System.Text.Json.JsonException json && json.Message is { Length: < 300 } detail ? $"{bad.Message} {detail}" : bad.Message;
}
