using DiveAspire.Tests.Cli;

namespace DiveAspire.Tests.Security;

/// <summary>
/// Issue 20, CLI: every bad value is exit 2 with one line naming the option (or argument) and what is valid; before,
/// '--ttl 1e300s' died with a stack trace (exit 134), '--user ""' and '--ttl 1e-300s' minted useless tokens, octal IPs
/// reset another address, 'dive redis' alone exited 0 and '--endpoint not-a-url' was "connection refused" (exit 1).
/// </summary>
[Trait("Category", "Security")]
public sealed class CliBadValueTests
{
    public static TheoryData<string[], string> BadValues() => new()
    {
        { ["token", "mint", "--user", "u", "--ttl", "1e300s"], "--ttl must be a duration from 1s to 24h" },
        { ["token", "mint", "--user", "u", "--ttl", "Infinitys"], "--ttl must be a duration from 1s to 24h" },
        { ["token", "mint", "--user", "u", "--ttl", "NaNs"], "--ttl must be a duration from 1s to 24h" },
        { ["token", "mint", "--user", "u", "--ttl", "-5m"], "--ttl must be a duration from 1s to 24h" },
        { ["token", "mint", "--user", "u", "--ttl", "1e-300s"], "--ttl must be a duration from 1s to 24h" },
        { ["token", "mint", "--user", "u", "--ttl", "0.5s"], "--ttl must be a duration from 1s to 24h" },
        { ["token", "mint", "--user", "u", "--ttl", "25h"], "--ttl must be a duration from 1s to 24h" },
        { ["token", "mint", "--user", "u", "--ttl", "5y"], "unknown unit 'y'" },
        { ["token", "mint", "--user", ""], "--user must be 1 to 128 letters" },
        { ["token", "mint", "--user", "a\u001b[31mb"], "--user must be 1 to 128 letters" },
        { ["token", "mint", "--user", new string('u', 129)], "--user must be 1 to 128 letters" },
        { ["token", "mint", "--user", "u", "--coi", ""], "--coi values must be 1 to 64" },
        { ["token", "mint", "--user", "u", "--clearance", "GODLIKE"], "--clearance: Argument 'GODLIKE' not recognized. Must be one of: 'UNCLASSIFIED', 'RESTRICTED'" },
        { ["redis", "rate-limits", "reset", "10.0.0.010", "--dry-run"], "ip: '10.0.0.010' is not an IP address" },
        { ["redis", "rate-limits", "reset", "0177.0.0.1", "--dry-run"], "ip: '0177.0.0.1' is not an IP address" },
        { ["redis", "rate-limits", "reset", "0x7f.0.0.1", "--dry-run"], "ip: '0x7f.0.0.1' is not an IP address" },
        { ["redis", "rate-limits", "reset", "127.1", "--dry-run"], "ip: '127.1' is not an IP address" },
        { ["redis", "rate-limits", "reset", "fe80::1%eth0", "--dry-run"], "ip: 'fe80::1%eth0' is not an IP address" },
        { ["redis"], "'dive redis' needs a command (valid: help, status" },
        { ["token"], "'dive token' needs a command (valid: mint" },
        { ["redis", "rate-limits", "show", "--endpoint", "not-a-url"], "--endpoint must be an http(s) URL" },
        { ["redis", "rate-limits", "show", "--endpoint", "ftp://x:21"], "--endpoint must be an http(s) URL" },
        { ["redis", "metrics", "--prometheus", "not-a-url"], "--prometheus must be an http(s) URL" },
        { ["redis", "status", "--endpoint", "not-a-url"], "--endpoint must be host:port" },
        { ["redis", "status", "--bogus"], "unknown option '--bogus' for 'dive redis status'" },
        { ["redis", "health", "-x"], "unknown option '-x' for 'dive redis health'" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task A_bad_value_is_exit_2_with_one_line_naming_what_is_valid(string[] args, string expected)
    {
        var run = (await CliRun.RunAsync([], args)).Expect(2);
        Assert.Equal("", run.Out);
        Assert.Contains(expected, run.OneLineError);
    }

    [Theory]
    [InlineData("10.0.0.8", "10.0.0.8")]
    [InlineData("2001:DB8::7", "2001:db8::7")]
    [InlineData("::ffff:10.0.0.8", "10.0.0.8")]
    public async Task A_valid_ip_is_taken_as_written(string ip, string canonical)
    {
        var run = (await CliRun.RunAsync([], "redis", "rate-limits", "reset", ip, "--dry-run", "--json")).Expect(0);
        Assert.Equal(canonical, run.Json.GetProperty("ip").GetString());
    }
}
