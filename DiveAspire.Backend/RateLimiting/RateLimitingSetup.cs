using System.Threading.RateLimiting;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Health;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>
/// The five DIVE limiters as ASP.NET Core rate-limiter policies backed by the instance's Redis.
/// Why our own Lua script rather than the RedisRateLimiting package: the DIVE key names
/// (<c>dive-v3:rate-limit:{type}:{client}</c>, which the CLI and admin endpoints SCAN), counting only failed attempts for
/// <c>auth</c>, RateLimit-* headers on successful responses, and failing over to memory at run time all need control
/// over the script and the error path that the package does not give; the script itself is ten lines and atomic.
/// </summary>
public static class RateLimitingSetup
{
    public static IServiceCollection AddDiveRateLimiting(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(RateLimitSettings.From(config));
        services.AddHttpContextAccessor();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<RateLimitStore>();
        services.AddSingleton<RefusedClients>();
        services.AddHostedService<RateLimitStoreMonitor>();
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            "rate-limit-store", sp => new RateLimitStoreHealthCheck(sp.GetRequiredService<RateLimitStore>()), HealthStatus.Degraded, [HealthEndpoints.RedisTag]));

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, ct) =>
            {
                if (context.Lease is DiveRateLimiter.Lease lease)
                {
                    await RateLimitHeaders.WriteRejectionAsync(context.HttpContext, lease, ct);
                }
            };
        });
        // The policies take their services here, once, rather than from RequestServices on every request.
        services.AddOptions<RateLimiterOptions>().Configure<RateLimitSettings, RateLimitStore, RefusedClients, IHttpContextAccessor>((options, settings, store, refused, accessor) =>
        {
            foreach (var type in RateLimitPolicies.All)
            {
                options.AddPolicy(type, Partitioner(type, settings, store, refused, accessor));
            }
        });
        return services;
    }

    private static readonly RateLimitPartition<string> Exempt = RateLimitPartition.GetNoLimiter("exempt");

    private static Func<HttpContext, RateLimitPartition<string>> Partitioner(
        string type, RateLimitSettings settings, RateLimitStore store, RefusedClients refused, IHttpContextAccessor accessor)
    {
        var rule = settings[type];
        var off = settings.Mode == RateLimitStoreMode.Off;
        var allowList = settings.AllowList;
        Func<string, RateLimiter> create = client => new DiveRateLimiter(type, client, rule, store, refused, accessor);
        if (type == RateLimitPolicies.Auth)
        {
            // "{address key}\n{account}": the address's window and the account's, both must admit.
            create = key => key.IndexOf('\n') is var split and > 0
                ? new ChainedLimiter(new DiveRateLimiter(type, key[..split], rule, store, refused, accessor), new DiveRateLimiter(type, "account:" + key[(split + 1)..], rule, store, refused, accessor))
                : new DiveRateLimiter(type, key, rule, store, refused, accessor);
        }
        if (type == RateLimitPolicies.Revocation)
        {
            // "{client key}\n{realm}" for a non-hub realm's token: the client's window and the realm's, both must admit.
            var realmRule = settings.RevocationRealm;
            create = key => key.IndexOf('\n') is var split and > 0
                ? new ChainedLimiter(new DiveRateLimiter(type, key[..split], rule, store, refused, accessor), new DiveRateLimiter(type, "realm:" + key[(split + 1)..], realmRule, store, refused, accessor))
                : new DiveRateLimiter(type, key, rule, store, refused, accessor);
        }
        return http => off || HealthEndpoints.IsOperational(http.Request.Path) || (allowList.Count > 0 && allowList.Contains(ClientAddress.Of(http)))
            ? Exempt
            : new RateLimitPartition<string>(type == RateLimitPolicies.Auth && AccountLimiter.AccountOf(http) is { } account
                ? $"{ClientAddress.Key(http)}\n{account}"
                : type == RateLimitPolicies.Revocation && !http.User.IsHubRealm() && http.User.Realm() is { } realm
                    ? $"{ClientAddress.Key(http)}\n{realm}"
                    : ClientAddress.Key(http), create);
    }

    /// <summary>The rate limiter, after the OAuth token request's form is read (its client is an account of the auth limiter).</summary>
    public static WebApplication UseDiveRateLimiter(this WebApplication app)
    {
        app.Use(AccountLimiter.ReadTokenFormAsync);
        app.UseRateLimiter();
        return app;
    }
}
