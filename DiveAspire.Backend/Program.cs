using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Authorization;
using DiveAspire.Backend.Catalog;
using DiveAspire.Backend.Errors;
using DiveAspire.Backend.FederatedSearch;
using DiveAspire.Backend.Health;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Metrics;
using DiveAspire.Backend.OAuth;
using DiveAspire.Backend.Otp;
using DiveAspire.Backend.RateLimiting;
using DiveAspire.Backend.Redis;
using DiveAspire.Backend.Revocation;
using Prometheus;

var builder = WebApplication.CreateBuilder(args);
DiveMetrics.ConfigureDefaults(builder.Configuration);

builder.AddServiceDefaults();
builder.Services.AddDiveJson();
builder.AddDiveErrorResponses();
var instance = InstanceInfo.From(builder.Configuration);
builder.Services.AddSingleton(instance);
builder.Services.AddDiveAuthentication(builder.Configuration, instance);
builder.AddDiveRedisClients(instance);
builder.Services.AddDiveHealthChecks();
builder.Services.AddDiveRevocation(builder.Configuration);
builder.Services.AddPeerTls(builder.Configuration);
builder.Services.AddDiveForwardedHeaders(builder.Configuration);
builder.Services.AddDiveRateLimiting(builder.Configuration);
builder.Services.AddResourceCatalog();
builder.Services.AddDecisionCache();
builder.Services.AddOAuthCodes();
builder.Services.AddOtp();
builder.Services.AddFederatedSearch(builder.Configuration);
if (OrchestratorWatch.Enabled(builder.Configuration))
{
    builder.Services.AddHostedService<OrchestratorWatch>();
}

var app = builder.Build();
DiveMetrics.Initialize();

app.UseDiveErrorResponses();
// Client IPs for rate limiting: X-Forwarded-For counts only from Dive:ForwardedHeaders:KnownProxies (none by default).
app.UseForwardedHeaders();
// Health and metrics never look at a token: a revoked, expired or malformed one attached by a probe changes nothing.
app.UseWhen(http => !HealthEndpoints.IsOperational(http.Request.Path), authenticated =>
{
    authenticated.UseAuthentication();
    authenticated.UseRevocationCheck();
});
// WebApplication adds its own UseAuthentication in front of everything unless the root builder has one; the branch's
// does not count. Without this mark every request was authenticated twice, health probes included (issue 16).
app.MarkAuthenticationInBranch();
// GET /api/resources sends its catalog read before the limiter's script: one Redis round trip for both.
app.UseCatalogPrefetch(builder.Configuration);
// After authentication (client key = uniqueID:ip), before authorization (requests that end in 401 are counted too).
app.UseDiveRateLimiter();
app.UseAuthorization();
app.UseUtf8Bodies();

app.MapDiveHealth();
app.MapGet("/api/auth/whoami", (HttpContext http) => Wire.Json(new WhoAmIResponse(
    http.User.SubjectId(),
    http.User.Realm(),
    http.User.Jti(),
    http.User.Clearance(),
    http.User.CountryOfAffiliation(),
    http.User.Cois(),
    http.User.FindFirst("iss")?.Value,
    instance.Code))).RequireAuthorization();
app.MapRevocation();
app.MapResources();
app.MapRateLimitAdmin();
app.MapUpload();
app.MapAuthorization();
app.MapOAuth();
app.MapOtp();
app.MapFederatedSearch();
app.MapMetrics("/metrics");
app.MapRouteTable();

// HA shared store: taken before Run, which disposes the services when it returns.
var sentinels = app.Services.GetService<SentinelPrimary>();
app.Run();
// The shared store's Sentinels refused for good at start (SharedStoreDiscovery stopped the backend, one line logged).
return sentinels?.StartRefusal is null ? 0 : 1;

/// <summary>Entry point marker for tests.</summary>
public partial class Program;
