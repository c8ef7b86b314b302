using DiveAspire.Backend.Auth;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Http.Metadata;

namespace DiveAspire.Backend.Errors;

/// <summary>
/// <c>GET /api/admin/routes</c> (admin, only with <c>Dive:Diagnostics:RouteTable=true</c>): every endpoint's pattern and
/// methods, read from the running app's route table, so the bad-input test battery covers a new endpoint without anyone
/// writing a test for it.
/// </summary>
public static class RouteTable
{
    public const string Path = "/api/admin/routes";

    public static WebApplication MapRouteTable(this WebApplication app)
    {
        if (app.Configuration.GetValue<bool>("Dive:Diagnostics:RouteTable"))
        {
            app.MapGet(Path, (EndpointDataSource endpoints, IOptions<JsonOptions> json) => Wire.Json(endpoints.Endpoints.OfType<RouteEndpoint>()
                .Select(e => new RouteDescription(
                    e.RoutePattern.RawText,
                    e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [],
                    e.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes ?? [],
                    // The JSON fields of a bound body, so a test can send each one a bad value (from its JSON contract:
                    // the names on the wire, and no reflection over the type, which Native AOT does not keep).
                    e.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType is { } body && json.Value.SerializerOptions.TryGetTypeInfo(body, out var contract)
                        ? [.. contract.Properties.Select(p => p.Name)]
                        : []))
                .ToArray()))
                .RequireAuthorization(AuthenticationSetup.AdminPolicy);
        }
        return app;
    }
}

public sealed record RouteDescription(string? Pattern, IReadOnlyList<string> Methods, IReadOnlyList<string> Accepts, IReadOnlyList<string> Fields);
