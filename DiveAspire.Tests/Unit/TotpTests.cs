using DiveAspire.Backend.Otp;

namespace DiveAspire.Tests.Unit;

public sealed class TotpTests
{
    // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", last 6 digits.
    [Theory]
    [InlineData(59, "287082")]
    [InlineData(1111111109, "081804")]
    [InlineData(1234567890, "005924")]
    [InlineData(2000000000, "279037")]
    public void Matches_the_rfc_6238_test_vectors(long unixTime, string expected)
    {
        var secret = Totp.Base32(System.Text.Encoding.ASCII.GetBytes("12345678901234567890"));
        Assert.Equal(expected, Totp.Code(secret, DateTimeOffset.FromUnixTimeSeconds(unixTime)));
    }

    [Fact]
    public void Verify_accepts_one_step_of_drift_and_rejects_garbage()
    {
        var secret = Totp.NewSecret();
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        Assert.True(Totp.Verify(secret, Totp.Code(secret, now.AddSeconds(-30)), now));
        Assert.False(Totp.Verify(secret, Totp.Code(secret, now.AddSeconds(-90)), now));
        Assert.False(Totp.Verify(secret, "12a456", now));
        Assert.False(Totp.Verify(secret, null, now));
    }
}
