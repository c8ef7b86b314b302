using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DiveAspire.Backend.Revocation;

public static class RevocationSetup
{
    public static IServiceCollection AddDiveRevocation(this IServiceCollection services, IConfiguration config)
    {
        var options = RevocationOptions.From(config);
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new RevocationCache(sp.GetRequiredService<TimeProvider>(), options.CacheMaxEntries));
        services.AddSingleton<RevocationStore>();
        services.AddSingleton<RelayCredentials>();
        if (options.Relay is { } hub)
        {
            // The ServiceDefaults' standard resilience handler, with bounds for a revocation the caller waits for: a
            // refused connection, a timed-out attempt or a gateway's error is retried within the total timeout, then the
            // caller gets 503 (a revocation sent twice is harmless: the hub's store only lengthens). The hub's own answers
            // are final and the caller's (RevocationRelay.HubDidNotAnswer). RemoveAllResilienceHandlers replaces the default
            // handler ConfigureHttpClientDefaults added rather than nesting a second one (marked experimental, EXTEXP0001).
#pragma warning disable EXTEXP0001
            services.AddHttpClient<RevocationRelay>(http => http.BaseAddress = hub)
                .RemoveAllResilienceHandlers()
#pragma warning restore EXTEXP0001
                .AddStandardResilienceHandler(resilience =>
                {
                    resilience.AttemptTimeout.Timeout = RevocationRelay.AttemptTimeout;
                    resilience.TotalRequestTimeout.Timeout = RevocationRelay.TotalTimeout;
                    resilience.Retry.MaxRetryAttempts = 2;
                    resilience.Retry.Delay = TimeSpan.FromMilliseconds(200);
                    resilience.Retry.ShouldHandle = attempt => ValueTask.FromResult(RevocationRelay.HubDidNotAnswer(attempt.Outcome));
                    // A gateway's Retry-After would outlast the total timeout: every retried outcome takes the short backoff.
                    resilience.Retry.ShouldRetryAfterHeader = false;
                    resilience.CircuitBreaker.SamplingDuration = RevocationRelay.AttemptTimeout * 2;
                    resilience.CircuitBreaker.ShouldHandle = attempt => ValueTask.FromResult(RevocationRelay.HubDidNotAnswer(attempt.Outcome));
                });
        }
        services.AddSingleton<RevocationSubscriber>();
        services.AddHostedService(sp => sp.GetRequiredService<RevocationSubscriber>());
        services.AddHealthChecks().AddCheck<RevocationHealthCheck>("revocation", HealthStatus.Degraded);
        return services;
    }

    /// <summary>Place right after UseAuthentication: every authenticated request is checked against revocations.</summary>
    public static IApplicationBuilder UseRevocationCheck(this IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetRequiredService<RevocationOptions>().CheckRequests)
        {
            return app.UseMiddleware<RevocationCheckMiddleware>();
        }
        app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("DiveAspire.Revocation")
            .LogWarning("{Key}=off: revoked tokens are NOT rejected by this backend. This setting exists only for benchmarks.", RevocationOptions.CheckKey);
        return app;
    }
}
