using Microsoft.Extensions.DependencyInjection.Extensions;
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
