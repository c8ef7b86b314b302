using DiveAspire.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Revocation;

namespace DiveAspire.Tests.Unit;

public sealed class RevocationUnitTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_cached_revocation_ends_exactly_when_its_ttl_ends_and_the_sweep_drops_it()
    {
        var clock = new ManualClock(T0);
        var cache = new RevocationCache(clock);
        cache.Add(RevocationKind.Token, "jti-1", T0.AddSeconds(60));
        cache.Add(RevocationKind.User, "alice", T0.AddSeconds(900));

        clock.Now = T0.AddSeconds(59.9);
        Assert.True(cache.IsTokenRevoked("jti-1"));
        Assert.Equal(0, cache.Sweep());

        clock.Now = T0.AddSeconds(60);
        Assert.False(cache.IsTokenRevoked("jti-1"));
        Assert.True(cache.IsUserRevoked("alice"));
        Assert.Equal(1, cache.Sweep());
        Assert.Equal(0, cache.TokenCount);
        Assert.Equal(1, cache.UserCount);
    }

    [Fact]
    public void Tokens_and_users_are_separate_namespaces()
    {
        var cache = new RevocationCache(new ManualClock(T0));
        cache.Add(RevocationKind.User, "same", T0.AddMinutes(1));
        Assert.False(cache.IsTokenRevoked("same"));
        Assert.True(cache.IsUserRevoked("same"));
    }

    [Fact]
    public void An_already_expired_revocation_is_not_added()
    {
        var cache = new RevocationCache(new ManualClock(T0));
        cache.Add(RevocationKind.Token, "old", T0.AddSeconds(-1));
        Assert.Equal(0, cache.TokenCount);
    }

    [Fact]
    public void Resync_adds_what_the_store_has_drops_what_it_lost_and_keeps_what_arrived_during_the_scan()
    {
        var clock = new ManualClock(T0);
        var cache = new RevocationCache(clock);
        cache.Add(RevocationKind.Token, "cleared-in-store", T0.AddMinutes(10));
        cache.Add(RevocationKind.User, "kept", T0.AddMinutes(10));

        clock.Now = T0.AddSeconds(1);
        var scanStartedAt = clock.Now;
        clock.Now = T0.AddSeconds(2);
        cache.Add(RevocationKind.Token, "published-during-scan", T0.AddMinutes(10));

        cache.ReplaceWith(
            new Dictionary<string, DateTimeOffset> { ["missed-while-disconnected"] = T0.AddMinutes(5) },
            new Dictionary<string, DateTimeOffset> { ["kept"] = T0.AddMinutes(10) },
            scanStartedAt);

        Assert.True(cache.IsTokenRevoked("missed-while-disconnected"));
        Assert.True(cache.IsTokenRevoked("published-during-scan"));
        Assert.False(cache.IsTokenRevoked("cleared-in-store"));
        Assert.True(cache.IsUserRevoked("kept"));
    }

    [Fact]
    public void Held_since_is_when_the_cache_first_held_a_revocation_and_survives_refinement_and_resync()
    {
        var clock = new ManualClock(T0);
        var cache = new RevocationCache(clock);
        Assert.Null(cache.HeldSince(RevocationKind.Token, "jti-1"));

        cache.AddProvisional(RevocationKind.Token, "jti-1", T0.AddHours(24)); // provisional, from pub/sub
        clock.Now = T0.AddSeconds(1);
        cache.Add(RevocationKind.Token, "jti-1", T0.AddSeconds(60)); // the key's exact TTL
        clock.Now = T0.AddSeconds(2);
        cache.ReplaceWith(new Dictionary<string, DateTimeOffset> { ["jti-1"] = T0.AddSeconds(60) }, new Dictionary<string, DateTimeOffset>(), T0.AddSeconds(2));
        Assert.Equal(T0, cache.HeldSince(RevocationKind.Token, "jti-1"));
        Assert.Null(cache.HeldSince(RevocationKind.User, "jti-1"));

        clock.Now = T0.AddSeconds(60);
        Assert.Null(cache.HeldSince(RevocationKind.Token, "jti-1"));
        cache.Add(RevocationKind.Token, "jti-1", T0.AddSeconds(120)); // revoked again after it ended: a new revocation
        Assert.Equal(T0.AddSeconds(60), cache.HeldSince(RevocationKind.Token, "jti-1"));
    }

    // exp - now + 5 s (validation clock skew) + 30 s (margin), at least 60 s (was exp - now: issue 12).
    [Theory]
    [InlineData(600, 635)]
    [InlineData(61, 96)]
    [InlineData(30, 65)]
    [InlineData(20, 60)]
    [InlineData(-100, 60)]
    public void Token_ttl_is_exp_plus_clock_skew_and_margin_minus_now_but_at_least_60_s(int expInSeconds, int expectedTtl)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedTtl), RevocationKeys.TokenTtl(T0.AddSeconds(expInSeconds), T0));
    }

    [Fact]
    public void The_revocation_ttl_uses_the_clock_skew_token_validation_accepts()
    {
        var config = new ConfigurationBuilder().Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(config);
        services.AddDiveAuthentication(config, new DiveAspire.Backend.Instance.InstanceInfo("USA", "hub", ["USA"], "process", "USA"));
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);
        Assert.Equal(RevocationKeys.ValidationClockSkew, options.TokenValidationParameters.ClockSkew);
    }

    [Theory]
    [InlineData(null, 24 * 3600)]
    [InlineData("3600", 3600)]
    [InlineData("2.00:00:00", 48 * 3600)]
    public void Max_token_lifetime_defaults_to_24_h(string? value, int expectedSeconds)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [RevocationOptions.MaxTokenLifetimeKey] = value }).Build();
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), RevocationOptions.From(config).MaxTokenLifetime);
    }

    [Theory]
    [InlineData(RevocationOptions.MaxTokenLifetimeKey, "forever")]
    [InlineData(RevocationOptions.MaxTokenLifetimeKey, "10")]
    [InlineData(RevocationOptions.CacheMaxEntriesKey, "0")]
    [InlineData(RevocationOptions.CacheMaxEntriesKey, "lots")]
    public void Bad_lifetime_or_cache_bound_is_a_clear_error(string key, string value)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        Assert.Contains(key, Assert.Throws<InvalidOperationException>(() => RevocationOptions.From(config)).Message);
    }

    [Fact]
    public void Token_without_exp_gets_the_minimum_ttl() =>
        Assert.Equal(TimeSpan.FromSeconds(60), RevocationKeys.TokenTtl(null, T0));

    [Fact]
    public void Record_and_message_serialise_with_the_original_field_names()
    {
        var record = new RevocationRecord(T0, "User logout", T0.AddMinutes(15), "USA").ToJson();
        Assert.Equal("""{"revokedAt":"2030-01-01T12:00:00+00:00","reason":"User logout","expiresAt":"2030-01-01T12:15:00+00:00","revokedByInstance":"USA"}""", record);
        var message = new RevocationMessage("token", "jti-1", "User logout", "ROU", T0).ToJson();
        Assert.Equal("""{"type":"token","identifier":"jti-1","reason":"User logout","sourceInstance":"ROU","timestamp":"2030-01-01T12:00:00+00:00"}""", message);
        Assert.Equal(RevocationKind.Token, RevocationMessage.TryParse(message)!.Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"type":"group","identifier":"x"}""")]
    [InlineData("""{"type":"user","identifier":""}""")]
    [InlineData("""{"type":"user"}""")]
    public void Malformed_messages_are_ignored(string json) => Assert.Null(RevocationMessage.TryParse(json));

    [Theory]
    [InlineData(null, RevocationFailureMode.Open)]
    [InlineData("open", RevocationFailureMode.Open)]
    [InlineData(" Closed ", RevocationFailureMode.Closed)]
    public void Failure_mode_defaults_to_open_and_parses_case_insensitively(string? value, RevocationFailureMode expected)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [RevocationOptions.FailureModeKey] = value }).Build();
        Assert.Equal(expected, RevocationOptions.From(config).FailureMode);
    }

    [Fact]
    public void Unknown_failure_mode_is_a_clear_error()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [RevocationOptions.FailureModeKey] = "maybe" }).Build();
        var ex = Assert.Throws<InvalidOperationException>(() => RevocationOptions.From(config));
        Assert.Contains("must be 'open' or 'closed'", ex.Message);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("on", true)]
    [InlineData(" OFF ", false)]
    public void Request_checks_are_on_unless_switched_off_for_benchmarks(string? value, bool expected)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [RevocationOptions.CheckKey] = value }).Build();
        Assert.Equal(expected, RevocationOptions.From(config).CheckRequests);
    }

    [Fact]
    public void Unknown_check_switch_is_a_clear_error()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [RevocationOptions.CheckKey] = "sometimes" }).Build();
        Assert.Contains("must be 'on' or 'off'", Assert.Throws<InvalidOperationException>(() => RevocationOptions.From(config)).Message);
    }
}
