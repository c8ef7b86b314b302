using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Redis;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace DiveAspire.Tests.Unit;

/// <summary>The options the Redis client integration connects with, read as the backend registers it (nothing connects).</summary>
public sealed class RedisClientOptionsTests
{
    private static readonly string Password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
    private static readonly string SharedStore = $"h1:6479,user=backend-rou,password={Password}";

    private static ConfigurationOptions OptionsFor(string store, string connectionString)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [$"ConnectionStrings:{store}"] = connectionString });
        builder.AddDiveRedisClients(new InstanceInfo("ROU", "spoke", ["USA", "ROU"], "process", "USA"));
        using var services = builder.Services.BuildServiceProvider();
        return services.GetRequiredService<IOptionsMonitor<ConfigurationOptions>>().Get(store);
    }

    [Fact]
    // A Sentinel string (the HA shared store) is resolved to the data nodes through real Sentinels at start:
    // RedisClientIntegrationTests and BlacklistFailoverTests cover it.
    public void The_acl_client_options_reach_the_multiplexer_unchanged()
    {
        var options = OptionsFor(RedisStores.BlacklistName, SharedStore + RedisAcl.ClientOptions);

        Assert.Equal(["h1:6479"], options.EndPoints.Select(e => e.ToString()!.Replace("Unspecified/", "")));
        Assert.Equal("backend-rou", options.User);
        Assert.Equal(Password, options.Password);
        // RedisAcl.ClientOptions: no CONFIG or CLUSTER at connect, no tie-breaker key, no configuration channel.
        Assert.Equal("", options.TieBreaker);
        Assert.Equal("", options.ConfigurationChannel);
        var written = options.ToString(includePassword: false);
        Assert.Contains("$CONFIG=", written);
        Assert.Contains("$CLUSTER=", written);
    }

    [Fact]
    public void Every_connection_never_aborts_times_out_after_2_s_reconnects_linearly_and_names_itself()
    {
        var options = OptionsFor(RedisStores.CacheName, "127.0.0.1:6404,user=backend" + RedisAcl.ClientOptions);

        Assert.False(options.AbortOnConnectFail);
        Assert.Equal(2000, options.ConnectTimeout);
        Assert.Equal(2000, options.SyncTimeout);
        Assert.Equal(2000, options.AsyncTimeout);
        Assert.IsType<LinearRetry>(options.ReconnectRetryPolicy);
        Assert.Equal("dive-backend-rou-cache", options.ClientName);
    }
}
