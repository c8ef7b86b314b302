using DiveAspire.Backend.Auth;
using System.Text.Json;
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
            app.MapGet(Path, (EndpointDataSource endpoints) => Results.Json(endpoints.Endpoints.OfType<RouteEndpoint>()
                .Select(e => new
                {
                    pattern = e.RoutePattern.RawText,
                    methods = e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [],
                    accepts = e.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes ?? [],
                    // The JSON fields of a bound body, so a test can send each one a bad value.
                    fields = e.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType?.GetProperties()
                        .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)) ?? [],
                })))
                .RequireAuthorization(AuthenticationSetup.AdminPolicy);
        }
        return app;
    }
}
