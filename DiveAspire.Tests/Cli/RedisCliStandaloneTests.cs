using System.Text.Json;

namespace DiveAspire.Tests.Cli;

/// <summary>
/// `dive redis` against redis-server processes of the test's own (misconfigured on purpose) and against nothing at
/// all: health must fail without AOF or without a password, and every error must be one line with the right exit code.
/// </summary>
public sealed class RedisCliStandaloneTests : IDisposable
{
    private readonly EnvironmentScope _env = new EnvironmentScope()
        // Never fall back to a developer's real AppHost secrets.
        .Set("DIVE_USER_SECRETS_FILE", Path.Combine(Path.GetTempPath(), $"dive-no-secrets-{Guid.NewGuid():N}.json"))
        .Set("REDIS_PASSWORD_USA", null)
        .Set("REDIS_PASSWORD_USA_OPERATOR", null)
        .Set("DIVE_REDIS_ENDPOINT_USA", null)
        .Set("DIVE_ADMIN_TOKEN", null)
        .Set("DIVE_DEV_SIGNING_KEY", null);

    private readonly List<string> _secrets = [];

    public void Dispose() => _env.Dispose();

    private Task<CliRun> Dive(params string[] args) => CliRun.RunAsync(_secrets, args);

    /// <summary>The CLI reads as operator and flushes as admin: both passwords, by their variables.</summary>
    private void UsePasswords(PlainRedisServer redis)
    {
        _secrets.Add(redis.Password!);
        _secrets.Add(redis.OperatorPassword!);
        _env.Set("REDIS_PASSWORD_USA", redis.Password).Set("REDIS_PASSWORD_USA_OPERATOR", redis.OperatorPassword);
    }

    private static Dictionary<string, bool> Checks(JsonElement json) =>
        json.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("passed").GetBoolean());

    [Fact]
    public async Task Health_passes_on_a_redis_configured_like_the_hub()
    {
        using var redis = new PlainRedisServer(password: true, aof: true);
        UsePasswords(redis);

        var json = (await Dive("redis", "health", "usa", "--endpoint", redis.Endpoint, "--json")).Expect(0).Json;
        Assert.Equal(7, json.GetProperty("total").GetInt32());
        Assert.Equal(7, json.GetProperty("passed").GetInt32());
        Assert.All(Checks(json).Values, Assert.True);

        var text = (await Dive("redis", "health", "usa", "--endpoint", redis.Endpoint)).Expect(0).Out;
        Assert.Contains("Checks passed: 7/7", text);
    }

    [Fact]
    public async Task Health_fails_on_a_redis_without_aof()
    {
        using var redis = new PlainRedisServer(password: true, aof: false);
        UsePasswords(redis);

        var json = (await Dive("redis", "health", "usa", "--endpoint", redis.Endpoint, "--json")).Expect(1).Json;
        var checks = Checks(json);
        Assert.False(checks["aof"]);
        Assert.Equal(["aof"], checks.Where(c => !c.Value).Select(c => c.Key));
        Assert.Contains("Checks passed: 6/7", (await Dive("redis", "health", "usa", "--endpoint", redis.Endpoint)).Expect(1).Out);
    }

    [Fact]
    public async Task Health_fails_on_a_redis_without_a_password()
    {
        using var redis = new PlainRedisServer(password: false, aof: true);

        var json = (await Dive("redis", "health", "usa", "--endpoint", redis.Endpoint, "--json")).Expect(1).Json;
        var checks = Checks(json);
        // Without a password the default user is on, which the acl check (issue 13) refuses too.
        Assert.Equal(["acl", "auth"], checks.Where(c => !c.Value).Select(c => c.Key).Order());
    }

    [Fact]
    public async Task Health_fails_on_the_wrong_eviction_policy()
    {
        using var redis = new PlainRedisServer(password: true, aof: true, policy: "noeviction");
        UsePasswords(redis);

        var json = (await Dive("redis", "health", "usa", "--endpoint", redis.Endpoint, "--json")).Expect(1).Json;
        Assert.Equal(["eviction"], Checks(json).Where(c => !c.Value).Select(c => c.Key));
    }

    [Fact]
    public async Task Wrong_password_is_one_line_naming_the_secret_to_fix()
    {
        using var redis = new PlainRedisServer(password: true, aof: true);
        var wrong = "not-" + redis.Password;
        _secrets.Add(redis.Password!);
        _secrets.Add(wrong);
        _env.Set("REDIS_PASSWORD_USA", wrong).Set("REDIS_PASSWORD_USA_OPERATOR", wrong);

        foreach (var command in new[] { "status", "health", "stats" })
        {
            var error = (await Dive("redis", command, "usa", "--endpoint", redis.Endpoint)).Expect(1).OneLineError;
            Assert.Contains("REDIS_PASSWORD_USA", error);
            Assert.Contains(redis.Endpoint, error);
        }
    }

    [Fact]
    public async Task Missing_password_is_one_line_saying_where_to_put_it()
    {
        using var redis = new PlainRedisServer(password: true, aof: true);
        _secrets.Add(redis.Password!);

        var error = (await Dive("redis", "status", "usa", "--endpoint", redis.Endpoint, "--json")).Expect(1).OneLineError;
        Assert.Contains("requires a password", error);
        Assert.Contains("REDIS_PASSWORD_USA", error);
        Assert.Equal("", (await Dive("redis", "status", "usa", "--endpoint", redis.Endpoint, "--json")).Out);
    }

    [Fact]
    public async Task Unreachable_redis_is_one_line_naming_host_and_port()
    {
        var endpoint = $"127.0.0.1:{FreePort.Next()}";
        var error = (await Dive("redis", "status", "--endpoint", endpoint)).Expect(1).OneLineError;
        Assert.Contains(endpoint, error);
        Assert.Contains("unreachable", error);

        _env.Set("DIVE_REDIS_ENDPOINT_USA", endpoint);
        Assert.Contains(endpoint, (await Dive("redis", "health")).Expect(1).OneLineError);
    }

    [Fact]
    public async Task Flush_refuses_without_confirmation_when_stdin_is_not_a_terminal()
    {
        Assert.True(Console.IsInputRedirected, "the test host's stdin must not be a terminal for this test");
        using var redis = new PlainRedisServer(password: true, aof: true);
        UsePasswords(redis);
        await using (var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"{redis.Endpoint},user=admin,password={redis.Password}"))
        {
            await connection.GetDatabase().StringSetAsync("session:1", "x");
        }

        var error = (await Dive("redis", "flush", "usa", "--endpoint", redis.Endpoint)).Expect(2).OneLineError;
        Assert.Contains("--yes", error);
        Assert.Contains("not a terminal", error);

        var status = (await Dive("redis", "status", "usa", "--endpoint", redis.Endpoint, "--json")).Expect(0).Json;
        Assert.Equal(1, status.GetProperty("keys").GetInt64());
    }

    [Theory]
    [InlineData("xyz", "Valid codes")]
    [InlineData("fra", "Deployed: USA")]
    public async Task Unknown_instance_names_the_valid_ones(string code, string expected)
    {
        foreach (var command in new[] { "status", "health", "stats", "flush" })
        {
            var error = (await Dive("redis", command, code)).Expect(2).OneLineError;
            Assert.Contains(expected, error);
        }
    }

    [Theory]
    [InlineData("1.2")]
    [InlineData("300.1.1.1")]
    [InlineData("not-an-ip")]
    [InlineData("10.0.0.1/24")]
    public async Task Rate_limit_reset_rejects_an_invalid_ip_with_exit_2(string ip)
    {
        var error = (await Dive("redis", "rate-limits", "reset", ip)).Expect(2).OneLineError;
        Assert.Contains("is not an IP address", error);
    }

    [Fact]
    public async Task Metrics_and_alerts_say_when_prometheus_is_not_running()
    {
        _env.Set("DIVE_PROMETHEUS_URL", $"http://127.0.0.1:{FreePort.Next()}");
        foreach (var command in new[] { "metrics", "alerts" })
        {
            var error = (await Dive("redis", command)).Expect(1).OneLineError;
            Assert.Contains("Prometheus is not running", error);
        }
    }
}
