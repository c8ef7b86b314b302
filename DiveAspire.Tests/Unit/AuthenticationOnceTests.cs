using System.Net;
using DiveAspire.Backend.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DiveAspire.Tests.Unit;

/// <summary>
/// The backend authenticates inside a UseWhen branch (operational paths never look at a token). WebApplication adds its
/// own UseAuthentication in front of everything unless told the pipeline has one: a real app on Kestrel, the backend's
/// scheme layout (a policy scheme forwarding to the handler), counting how often a request is authenticated.
/// </summary>
public class AuthenticationOnceTests
{
    [Theory]
    [InlineData(true, "/api/thing", 1)]
    [InlineData(true, "/health/live", 0)]
    [InlineData(false, "/api/thing", 2)] // what the backend did before the mark
    [InlineData(false, "/health/live", 1)]
    public async Task A_request_is_authenticated_once_and_an_operational_one_never(bool marked, string path, int expected)
    {
        var selections = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddAuthentication("selector")
            .AddPolicyScheme("selector", "selector", options => options.ForwardDefaultSelector = _ =>
            {
                Interlocked.Increment(ref selections);
                return "none";
            })
            .AddScheme<AuthenticationSchemeOptions, NoResultHandler>("none", null);
        await using var app = builder.Build();
        app.UseWhen(http => !http.Request.Path.StartsWithSegments("/health"), branch => branch.UseAuthentication());
        if (marked)
        {
            app.MarkAuthenticationInBranch();
        }
        app.MapGet("/api/thing", () => "ok");
        app.MapGet("/health/live", () => "ok");
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
            var response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(expected, selections);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private sealed class NoResultHandler(
        Microsoft.Extensions.Options.IOptionsMonitor<AuthenticationSchemeOptions> options,
        Microsoft.Extensions.Logging.ILoggerFactory logger,
        System.Text.Encodings.Web.UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
    }
}
