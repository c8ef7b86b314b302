using DiveAspire.Backend.Health;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Redis;
using Prometheus;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddSingleton(InstanceInfo.From(builder.Configuration));
builder.Services.AddSingleton<RedisStores>();
builder.Services.AddDiveHealthChecks();

var app = builder.Build();

app.MapDiveHealth();
app.MapMetrics("/metrics");

app.Run();

/// <summary>Entry point marker for tests.</summary>
public partial class Program;
