using DiveAspire.Tests.Infrastructure;
using DiveAspire.Backend.FederatedSearch;
using Polly;
using Polly.CircuitBreaker;
using StackExchange.Redis;

namespace DiveAspire.Tests.Unit;

/// <summary>The federated-search cache's breaker: Polly's, built as the backend builds it, driven by a manual clock.</summary>
public sealed class CircuitBreakerTests
{
    private sealed class Breaker
    {
        private readonly CircuitBreakerStateProvider _state = new();
        private readonly ResiliencePipeline _pipeline;

        public Breaker(ManualClock clock) =>
            _pipeline = new ResiliencePipelineBuilder { TimeProvider = clock }.AddSearchCacheBreaker(3, TimeSpan.FromSeconds(30), _state).Build();

        public CircuitState State => _state.CircuitState;

        /// <summary>A call that fails with a Redis error: true when the breaker let it through to the store.</summary>
        public bool Fail(Action<CircuitState>? whileRunning = null) => Run(() =>
        {
            whileRunning?.Invoke(State);
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "the instance's Redis is not connected");
        });

        /// <summary>A call that succeeds: true when the breaker let it through to the store.</summary>
        public bool Succeed(Action<CircuitState>? whileRunning = null) => Run(() => whileRunning?.Invoke(State));

        private bool Run(Action call)
        {
            try
            {
                _pipeline.Execute(call);
                return true;
            }
            catch (RedisConnectionException)
            {
                return true;
            }
            catch (BrokenCircuitException)
            {
                return false;
            }
        }
    }

    [Fact]
    public void Opens_after_three_errors_and_retries_after_30_s()
    {
        var clock = new ManualClock();
        var breaker = new Breaker(clock);
        Assert.True(breaker.Fail());
        Assert.True(breaker.Fail());
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.Fail());
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.Succeed());

        clock.Now += TimeSpan.FromSeconds(29);
        Assert.False(breaker.Succeed());
        clock.Now += TimeSpan.FromSeconds(1);
        // One trial goes through, half-open.
        Assert.True(breaker.Fail(whileRunning: state => Assert.Equal(CircuitState.HalfOpen, state)));

        // A failed trial opens it again for another 30 s; a successful one closes it.
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.Succeed());
        clock.Now += TimeSpan.FromSeconds(30);
        Assert.True(breaker.Succeed(whileRunning: state => Assert.Equal(CircuitState.HalfOpen, state)));
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void A_success_resets_the_error_count()
    {
        var breaker = new Breaker(new ManualClock());
        breaker.Fail();
        breaker.Fail();
        breaker.Succeed();
        breaker.Fail();
        breaker.Fail();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void A_success_holds_it_closed_until_it_is_30_s_old_then_three_errors_in_a_row_open_it()
    {
        // Polly counts a failure ratio over a 30 s window: a recent success keeps the ratio below 1.
        var clock = new ManualClock();
        var breaker = new Breaker(clock);
        breaker.Succeed();
        breaker.Fail();
        breaker.Fail();
        breaker.Fail();
        Assert.Equal(CircuitState.Closed, breaker.State);

        clock.Now += TimeSpan.FromSeconds(31);
        breaker.Fail();
        breaker.Fail();
        Assert.Equal(CircuitState.Closed, breaker.State);
        breaker.Fail();
        Assert.Equal(CircuitState.Open, breaker.State);
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
