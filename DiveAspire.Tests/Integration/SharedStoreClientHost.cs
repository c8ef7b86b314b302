using DiveAspire.Backend.Authorization;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Redis;
using DiveAspire.Backend.Revocation;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// The backend's own shared-store client, in the test's process: the real <see cref="RedisClientSetup"/> (Aspire's keyed
/// Redis clients, <see cref="SentinelPrimary"/>), <see cref="RevocationStore"/>, <see cref="RevocationCache"/> and
/// <see cref="RevocationSubscriber"/> as the backend wires them, with the decision cache's <see cref="InvalidationSubscriber"/>
/// on the same shared-store connection, against real Redis and Sentinel processes, without HTTP,
/// tokens or an AppHost: a test can reach the pieces it checks (the cache, the primary taken) and time them exactly.
/// Its cache store is a password-less redis-server of its own. Stopped on Dispose.
/// </summary>
public sealed class SharedStoreClientHost : IAsyncDisposable
{
    private readonly PlainRedisServer _cache = new(password: false, aof: false);
    private readonly IHost _host;
    private bool _starting;

    public SharedStoreClientHost(string blacklistConnectionString, string instanceCode = "USA")
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:cache"] = _cache.Endpoint,
            ["ConnectionStrings:blacklist"] = blacklistConnectionString,
            ["Dive:InstanceCode"] = instanceCode,
            ["Dive:Federation"] = instanceCode,
        });
        builder.Logging.AddProvider(Logs);
        // The subscriber's Debug line at the start of each resync, which a test can hold the resync on.
        builder.Logging.AddFilter<LogCapture>(typeof(RevocationSubscriber).FullName, LogLevel.Debug);
        var instance = InstanceInfo.From(builder.Configuration);
        builder.Services.AddSingleton(instance);
        builder.AddDiveRedisClients(instance);
        builder.Services.AddDiveRevocation(builder.Configuration);
        builder.Services.AddDecisionCache();
        _host = builder.Build();
    }

    public LogCapture Logs { get; } = new();
    public string Log => string.Join('\n', Logs.Lines.Select(l => $"{l.Category}: {l.Message}"));

    public RevocationStore Store => _host.Services.GetRequiredService<RevocationStore>();
    public RevocationCache Cache => _host.Services.GetRequiredService<RevocationCache>();
    public RevocationSubscriber Subscriber => _host.Services.GetRequiredService<RevocationSubscriber>();
    public RedisStores Stores => _host.Services.GetRequiredService<RedisStores>();
    public SentinelPrimary Sentinels => _host.Services.GetRequiredService<SentinelPrimary>();
    public HealthCheckService Health => _host.Services.GetRequiredService<HealthCheckService>();

    /// <summary>The instance's own Redis (the decision cache's store), password-less.</summary>
    public string CacheEndpoint => _cache.Endpoint;
    public IHostApplicationLifetime Lifetime => _host.Services.GetRequiredService<IHostApplicationLifetime>();

    /// <summary>
    /// Starts the client as a backend starts: without waiting for the shared store (the discovery through the Sentinels
    /// runs in the background, <see cref="SharedStoreDiscovery"/>); throws what a backend's start would.
    /// </summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        _starting = true;
        await _host.StartAsync(ct);
    }

    /// <summary>Started, a primary taken and the first resync done, as a ready backend.</summary>
    public async Task StartReadyAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await StartAsync(cts.Token);
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(Sentinels.Current is not null && Subscriber.EverSynchronised), timeout,
            "the shared-store client to take a primary and resynchronise");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_starting)
            {
                await _host.StopAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or ArgumentNullException)
        {
            // Its start failed half-way: what it started stops with Dispose.
        }
        _host.Dispose();
        _cache.Dispose();
    }
}
