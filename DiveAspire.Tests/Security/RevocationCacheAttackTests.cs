using DiveAspire.Tests.Infrastructure;
using DiveAspire.Backend.Revocation;

namespace DiveAspire.Tests.Security;

/// <summary>The local revocation cache under attack: a stale resync, and a flood that fills it.</summary>
[Trait("Category", "Security")]
public sealed class RevocationCacheAttackTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_resync_that_read_an_older_expiry_never_shortens_a_cached_revocation()
    {
        var clock = new ManualClock(T0);
        var cache = new RevocationCache(clock);
        var scanStartedAt = T0;
        // The scan read the key's TTL (60 s); meanwhile a 24 h revocation of the same user arrived over pub/sub.
        clock.Now = T0.AddSeconds(1);
        cache.Add(RevocationKind.User, "alice", T0.AddHours(24));
        cache.ReplaceWith(new Dictionary<string, DateTimeOffset>(), new Dictionary<string, DateTimeOffset> { ["alice"] = T0.AddSeconds(60) }, scanStartedAt);

        clock.Now = T0.AddMinutes(5);
        Assert.True(cache.IsUserRevoked("alice"));
    }

    [Fact]
    public void A_shorter_expiry_read_after_a_message_never_shortens_a_revocation_known_exactly()
    {
        // Someone who can write the store shortened the key (PEXPIRE) and published a message about it: the backend reads
        // the key's TTL again after every message. The revocation must stay enforced for as long as it was known to last.
        var clock = new ManualClock(T0);
        var cache = new RevocationCache(clock);
        cache.Add(RevocationKind.Token, "stolen-jti", T0.AddMinutes(10));
        clock.Now = T0.AddSeconds(5);
        cache.AddProvisional(RevocationKind.Token, "stolen-jti", T0.AddHours(24));
        cache.Add(RevocationKind.Token, "stolen-jti", T0.AddSeconds(7));

        clock.Now = T0.AddMinutes(9);
        Assert.True(cache.IsTokenRevoked("stolen-jti"));
        clock.Now = T0.AddMinutes(10);
        Assert.False(cache.IsTokenRevoked("stolen-jti"));
    }

    [Fact]
    public void A_provisional_expiry_from_a_message_gives_way_to_the_stores_exact_one()
    {
        var clock = new ManualClock(T0);
        var cache = new RevocationCache(clock);
        cache.AddProvisional(RevocationKind.Token, "jti", T0.AddHours(24));
        cache.Add(RevocationKind.Token, "jti", T0.AddSeconds(60));
        clock.Now = T0.AddSeconds(61);
        Assert.False(cache.IsTokenRevoked("jti"));
    }

    [Fact]
    public void An_automatic_resync_from_a_node_that_lacks_a_revocation_never_drops_it_while_its_ttl_runs()
    {
        var clock = new ManualClock(T0);
        var cache = new RevocationCache(clock);
        cache.Add(RevocationKind.Token, "stolen-jti", T0.AddMinutes(10));
        cache.Add(RevocationKind.User, "alice", T0.AddMinutes(15));

        // The scan read a lagging replica or a deposed primary (a stale Sentinel named it): it has neither.
        clock.Now = T0.AddSeconds(5);
        cache.MergeWith(new Dictionary<string, DateTimeOffset> { ["other-jti"] = T0.AddMinutes(5) }, new Dictionary<string, DateTimeOffset>(), clock.Now);

        Assert.True(cache.IsTokenRevoked("stolen-jti"));
        Assert.True(cache.IsUserRevoked("alice"));
        Assert.True(cache.IsTokenRevoked("other-jti"));
        // Only its TTL ends it.
        clock.Now = T0.AddMinutes(10);
        Assert.False(cache.IsTokenRevoked("stolen-jti"));
        Assert.True(cache.IsUserRevoked("alice"));
    }

    [Fact]
    public void A_flood_that_fills_the_cache_never_lets_a_revocation_it_could_not_hold_through()
    {
        var clock = new ManualClock(T0);
        var cache = new RevocationCache(clock, maxEntries: 3);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(cache.Add(RevocationKind.User, $"flood-{i}", T0.AddHours(1)));
        }
        // The revocation that matters arrives when the cache is full: it is refused, nothing is evicted...
        Assert.False(cache.Add(RevocationKind.Token, "stolen-jti", T0.AddHours(3)));
        Assert.True(cache.Overflowed);
        Assert.Equal(3, cache.Count);
        Assert.True(cache.IsUserRevoked("flood-0"));
        // ...and the backend refuses every token it does not know (503), in failure mode open too.
        Assert.Equal(RevocationCheckMiddleware.CacheFull, RevocationCheckMiddleware.Unverifiable(true, cache.Overflowed, true, RevocationFailureMode.Open));

        // A resync whose scan began before the refusal cannot vouch for it.
        clock.Now = T0.AddHours(2);
        Assert.Equal(3, cache.Sweep());
        cache.ReplaceWith(new Dictionary<string, DateTimeOffset>(), new Dictionary<string, DateTimeOffset>(), T0.AddSeconds(-1));
        Assert.True(cache.Overflowed);

        // One that began after it, and fits the store, ends the overflow with the revocation held.
        cache.ReplaceWith(new Dictionary<string, DateTimeOffset> { ["stolen-jti"] = T0.AddHours(3) }, new Dictionary<string, DateTimeOffset>(), clock.Now);
        Assert.False(cache.Overflowed);
        Assert.True(cache.IsTokenRevoked("stolen-jti"));
        Assert.Null(RevocationCheckMiddleware.Unverifiable(true, cache.Overflowed, true, RevocationFailureMode.Open));
    }

    [Fact]
    public void Before_its_first_sync_a_backend_vouches_for_no_token_in_either_failure_mode()
    {
        foreach (var mode in new[] { RevocationFailureMode.Open, RevocationFailureMode.Closed })
        {
            Assert.Equal(RevocationCheckMiddleware.NeverSynchronised, RevocationCheckMiddleware.Unverifiable(false, false, false, mode));
        }
        Assert.Null(RevocationCheckMiddleware.Unverifiable(true, false, false, RevocationFailureMode.Open));
        Assert.Equal(RevocationCheckMiddleware.StoreUnreachable, RevocationCheckMiddleware.Unverifiable(true, false, false, RevocationFailureMode.Closed));
    }
}
