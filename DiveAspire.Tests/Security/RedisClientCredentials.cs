using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using DiveAspire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace DiveAspire.Tests.Security;

/// <summary>What a client of the running app was given: a backend's connection strings, read from its environment.</summary>
public static class RedisClientCredentials
{
    /// <summary><c>ConnectionStrings__&lt;store&gt;</c> ("cache" or "blacklist") of one backend, resolved as the backend sees it.</summary>
    public static async Task<string> BackendConnectionStringAsync(FederationFixture federation, string code, string store)
    {
        var backend = federation.App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .Single(r => r.Name == $"backend-{code}");
        var env = await ModelInspection.EnvironmentAsync(backend);
        var value = env[$"ConnectionStrings__{store}"];
        return value switch
        {
            string text => text,
            IValueProvider provider => await provider.GetValueAsync() ?? throw new InvalidOperationException($"ConnectionStrings__{store} of backend-{code} has no value"),
            _ => throw new InvalidOperationException($"unexpected {value.GetType().Name}"),
        };
    }

    /// <summary>The ACL user a connection string logs in as (Redis's "default" when it names none).</summary>
    public static string UserOf(string connectionString) => ConfigurationOptions.Parse(connectionString).User ?? "default";

    public static async Task<ConnectionMultiplexer> ConnectAsync(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        // The attacker's client sends anything: only the server's ACL may refuse it.
        options.AllowAdmin = true;
        options.CommandMap = CommandMap.Default;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }
}
