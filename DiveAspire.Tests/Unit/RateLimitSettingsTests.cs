using DiveAspire.Tests.Infrastructure;
using DiveAspire.Backend.RateLimiting;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.Tests.Unit;

public sealed class RateLimitSettingsTests
{
    private static RateLimitSettings From(params (string Key, string Value)[] settings) => RateLimitSettings.From(
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build());

    [Fact]
    public void Defaults_are_the_dive_limits()
    {
        var rules = From().Rules;
        Assert.Equal(new LimitRule(100, TimeSpan.FromMinutes(15)), rules["api"]);
        Assert.Equal(new LimitRule(5, TimeSpan.FromMinutes(15)), rules["auth"]);
        Assert.Equal(new LimitRule(20, TimeSpan.FromHours(1)), rules["upload"]);
        Assert.Equal(new LimitRule(50, TimeSpan.FromMinutes(15)), rules["admin"]);
        Assert.Equal(new LimitRule(3, TimeSpan.FromHours(1)), rules["strict"]);
    }

    [Fact]
    public void Limits_windows_and_allow_list_are_configurable()
    {
        var settings = From(("Dive:RateLimits:api:Max", "10"), ("Dive:RateLimits:api:Window", "60"),
            ("Dive:RateLimits:upload:Window", "00:05:00"), ("Dive:RateLimits:AllowList", "10.0.0.1, ::1"));
        Assert.Equal(new LimitRule(10, TimeSpan.FromSeconds(60)), settings["api"]);
        Assert.Equal(TimeSpan.FromMinutes(5), settings["upload"].Window);
        Assert.Equal(2, settings.AllowList.Count);
    }

    [Theory]
    [InlineData("Dive:RateLimits:api:Max", "0")]
    [InlineData("Dive:RateLimits:api:Max", "lots")]
    [InlineData("Dive:RateLimits:auth:Window", "0")]
    [InlineData("Dive:RateLimits:AllowList", "10.0.0.1,nope")]
    public void Bad_settings_stop_start_up_with_the_key_named(string key, string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => From((key, value)));
        Assert.Contains(key, error.Message);
    }

    [Theory]
    [InlineData("203.0.113.7", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("1", false)]
    [InlineData("10.1", false)]
    [InlineData("999.1.1.1", false)]
    [InlineData("", false)]
    public void Only_real_addresses_parse(string text, bool valid) => Assert.Equal(valid, ClientAddress.TryParseStrict(text, out _));

    [Fact]
    public void Memory_windows_admit_max_then_reset_when_the_window_ends()
    {
        var clock = new ManualClock();
        var windows = new MemoryWindows(clock);
        var rule = new LimitRule(2, TimeSpan.FromSeconds(10));
        Assert.True(windows.Apply("k", rule, WindowMode.Hit).Admitted);
        Assert.True(windows.Apply("k", rule, WindowMode.Hit).Admitted);
        var rejected = windows.Apply("k", rule, WindowMode.Hit);
        Assert.False(rejected.Admitted);
        Assert.Equal(2, rejected.Count);
        clock.Now += TimeSpan.FromSeconds(10);
        Assert.True(windows.Apply("k", rule, WindowMode.Hit).Admitted);
    }

    [Fact]
    public void Memory_auth_windows_take_a_slot_at_admission_and_give_back_what_did_not_fail()
    {
        var windows = new MemoryWindows(new ManualClock());
        var rule = new LimitRule(2, TimeSpan.FromSeconds(10));
        Assert.True(windows.Apply("a", rule, WindowMode.Hit).Admitted);
        Assert.True(windows.Apply("a", rule, WindowMode.Hit).Admitted);
        Assert.False(windows.Apply("a", rule, WindowMode.Hit).Admitted); // a third attempt while two are in flight
        Assert.Equal(1, windows.Apply("a", rule, WindowMode.Refund).Count); // one of them succeeded
        Assert.True(windows.Apply("a", rule, WindowMode.Hit).Admitted);
        windows.Apply("a", rule, WindowMode.Refund);
        windows.Apply("a", rule, WindowMode.Refund);
        Assert.Equal(0, windows.Apply("a", rule, WindowMode.Refund).Count); // never below zero
        Assert.Empty(windows.LiveKeys("a"));
    }

    [Theory]
    [InlineData(null, RateLimitStoreMode.Redis)]
    [InlineData("redis", RateLimitStoreMode.Redis)]
    [InlineData(" Memory ", RateLimitStoreMode.Memory)]
    [InlineData("off", RateLimitStoreMode.Off)]
    public void Store_switch_defaults_to_redis(string? value, RateLimitStoreMode expected) =>
        Assert.Equal(expected, (value is null ? From() : From(("Dive:RateLimits:Store", value))).Mode);

    [Fact]
    public void Unknown_store_is_a_clear_start_up_error() =>
        Assert.Contains("must be redis, memory or off", Assert.Throws<InvalidOperationException>(() => From(("Dive:RateLimits:Store", "disk"))).Message);
}
