using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.WebUtilities;

namespace DiveAspire.Backend.Errors;

/// <summary>
/// The one place where every error response gets the project's JSON body <c>{"error": reason, "message": ...}</c>:
/// the framework's own errors (404, 405, 415, binding failures, 413 from Kestrel), malformed forms, and any unhandled
/// exception (500 without details). Endpoints write their own JSON errors; this covers everything they do not.
/// </summary>
public static class JsonErrors
{
    /// <summary>Default request body limit (Kestrel's is 30 MB); the largest legitimate body here is a few KB.</summary>
    public const long DefaultMaxRequestBodyBytes = 64 * 1024;

    public static WebApplicationBuilder AddDiveErrorResponses(this WebApplicationBuilder builder)
    {
        var maxBody = long.TryParse(builder.Configuration["Dive:MaxRequestBodyBytes"], out var configured) && configured > 0
            ? configured : DefaultMaxRequestBodyBytes;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = maxBody);
        // Binding failures throw BadHttpRequestException (with the reason) instead of answering an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RedisOutageLog>();
        builder.Services.AddExceptionHandler<ClientErrorExceptionHandler>();
        return builder;
    }

    public static WebApplication UseDiveErrorResponses(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // The handler logs itself: one warning line for a client's mistake, a Redis outage as an outage (not per request),
            // an error with the stack trace for a bug.
            SuppressDiagnosticsCallback = _ => true,
            ExceptionHandler = _ => Task.CompletedTask,
        });
        app.UseStatusCodePages(context => WriteAsync(context.HttpContext, context.HttpContext.Response.StatusCode, StatusMessage(context.HttpContext)));
        return app;
    }

    /// <summary>Refuses a body in a charset other than UTF-8 (RFC 8259: JSON is UTF-8), before any endpoint reads it.</summary>
    public static WebApplication UseUtf8Bodies(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.Request.ContentType is { } contentType
                && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
                && mediaType.Charset.HasValue
                && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
                && !mediaType.Charset.Equals("\"utf-8\"", StringComparison.OrdinalIgnoreCase))
            {
                await WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "Request bodies must be UTF-8 (charset=utf-8 or none)");
                return;
            }
            await next(context);
        });
        return app;
    }

    public static Task WriteAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        var error = ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } reason ? reason : "Error";
        return context.Response.WriteAsJsonAsync(new ErrorBody(error, message), WireJson.Default.ErrorBody);
    }

    private static string StatusMessage(HttpContext context) => context.Response.StatusCode switch
    {
        StatusCodes.Status404NotFound => "No endpoint at this path",
        StatusCodes.Status405MethodNotAllowed => $"This endpoint does not accept {Printable(context.Request.Method)}",
        StatusCodes.Status415UnsupportedMediaType => "Unsupported content type: send application/json (or the form type the endpoint documents)",
        StatusCodes.Status413PayloadTooLarge => "Request body is too large",
        StatusCodes.Status401Unauthorized => "Authentication is required",
        StatusCodes.Status403Forbidden => "Access is denied",
        StatusCodes.Status429TooManyRequests => "Too many requests; try again later",
        var status and >= 500 => ReasonPhrases.GetReasonPhrase(status),
        _ => "The request is invalid",
    };

    /// <summary>A method name as sent by the client, only when it is a plain token (never echo arbitrary bytes).</summary>
    private static string Printable(string method) => method.Length <= 16 && method.All(char.IsAsciiLetterUpper) ? method : "this method";
}
