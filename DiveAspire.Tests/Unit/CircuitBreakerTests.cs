using DiveAspire.Tests.Infrastructure;
using DiveAspire.Backend.FederatedSearch;

namespace DiveAspire.Tests.Unit;

public sealed class CircuitBreakerTests
{
    [Fact]
    public void Opens_after_three_errors_and_retries_after_30_s()
    {
        var clock = new ManualClock();
        var breaker = new CircuitBreaker(clock, 3, TimeSpan.FromSeconds(30));
        breaker.RecordFailure();
        breaker.RecordFailure();
        Assert.True(breaker.AllowRequest());
        breaker.RecordFailure();
        Assert.Equal(BreakerState.Open, breaker.State);
        Assert.False(breaker.AllowRequest());

        clock.Now += TimeSpan.FromSeconds(29);
        Assert.False(breaker.AllowRequest());
        clock.Now += TimeSpan.FromSeconds(1);
        Assert.True(breaker.AllowRequest());
        Assert.Equal(BreakerState.HalfOpen, breaker.State);

        // A failed trial opens it again for another 30 s; a successful one closes it.
        breaker.RecordFailure();
        Assert.False(breaker.AllowRequest());
        clock.Now += TimeSpan.FromSeconds(30);
        Assert.True(breaker.AllowRequest());
        breaker.RecordSuccess();
        Assert.Equal(BreakerState.Closed, breaker.State);
    }

    [Fact]
    public void A_success_resets_the_error_count()
    {
        var breaker = new CircuitBreaker(new ManualClock(), 3, TimeSpan.FromSeconds(30));
        breaker.RecordFailure();
        breaker.RecordFailure();
        breaker.RecordSuccess();
        breaker.RecordFailure();
        breaker.RecordFailure();
        Assert.Equal(BreakerState.Closed, breaker.State);
    }

    [Fact]
    public void Query_key_is_the_first_16_hex_of_sha256_of_the_normalised_query_and_of_the_callers_access_attributes()
    {
        var caller = new DiveAspire.Backend.Authorization.Subject("u1", "secret", "usa", ["NATO", "FVEY"]);
        Assert.Equal(FederatedSearchCache.Key("nato report", caller), FederatedSearchCache.Key("  NATO   Report ", caller));
        // Who the caller is does not matter, only what they may see (COI order neither).
        Assert.Equal(FederatedSearchCache.Key("nato report", caller), FederatedSearchCache.Key("nato report", caller with { UserId = "u2", Cois = ["FVEY", "NATO"] }));
        Assert.NotEqual(FederatedSearchCache.Key("nato report", caller), FederatedSearchCache.Key("nato report", caller with { Clearance = "TOP_SECRET" }));
        Assert.NotEqual(FederatedSearchCache.Key("nato report", caller), FederatedSearchCache.Key("nato report", caller with { Country = "ROU" }));
        Assert.NotEqual(FederatedSearchCache.Key("nato report", caller), FederatedSearchCache.Key("nato report", caller with { Cois = ["NATO"] }));
        static string Hash(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..16];
        Assert.Equal($"dive:federation:query:{Hash("nato report")}:{Hash("SECRET|USA|FVEY,NATO")}", FederatedSearchCache.Key("nato report", caller));
    }
}
