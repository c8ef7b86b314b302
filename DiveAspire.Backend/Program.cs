using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Health;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Metrics;
using DiveAspire.Backend.Redis;
using DiveAspire.Backend.Resources;
using DiveAspire.Backend.Revocation;
using Prometheus;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
var instance = InstanceInfo.From(builder.Configuration);
builder.Services.AddSingleton(instance);
builder.Services.AddDiveAuthentication(builder.Configuration, instance);
builder.Services.AddSingleton<RedisStores>();
builder.Services.AddDiveHealthChecks();
builder.Services.AddDiveRevocation(builder.Configuration);

var app = builder.Build();
DiveMetrics.Initialize();

app.UseAuthentication();
app.UseRevocationCheck();
app.UseAuthorization();

app.MapDiveHealth();
app.MapGet("/api/auth/whoami", (HttpContext http) => Results.Json(new
{
    user = http.User.UserId(),
    jti = http.User.Jti(),
    clearance = http.User.Clearance(),
    country = http.User.CountryOfAffiliation(),
    coi = http.User.Cois(),
    issuer = http.User.FindFirst("iss")?.Value,
    instance = instance.Code,
})).RequireAuthorization();
app.MapRevocation();
app.MapResources();
app.MapMetrics("/metrics");

app.Run();

/// <summary>Entry point marker for tests.</summary>
public partial class Program;
