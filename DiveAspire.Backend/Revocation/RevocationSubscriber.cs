using System.Net;
using System.Threading.Channels;
using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Metrics;
using DiveAspire.Backend.Redis;
using StackExchange.Redis;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// Feeds the local <see cref="RevocationCache"/>: subscribes to both revocation channels, and because pub/sub drops
/// whatever is published while a subscriber is disconnected, rebuilds the cache from the store (SCAN) at start and
/// after every reconnect and failover (adding to the cache, never dropping from it: see <see cref="ResyncAsync"/>).
/// Until that resync succeeds the cache is not <see cref="Synchronised"/>. It alone subscribes to these channels on the
/// shared store's connection (other features are told of user revocations through <see cref="UserRevoked"/>): the client
/// keeps one subscription per channel for all its handlers, so a second handler would keep the channel subscribed, on
/// whichever node, when this one unsubscribes to subscribe again, and the SUBSCRIBE that follows would be skipped.
/// </summary>
public sealed class RevocationSubscriber(
    RedisStores stores, RevocationStore store, RevocationCache cache, InstanceInfo instance, TimeProvider clock,
    ILogger<RevocationSubscriber> logger) : BackgroundService
{
    /// <summary>How long a received revocation is kept when its exact TTL cannot be read from the store.</summary>
    private static readonly TimeSpan ProvisionalTokenTtl = TimeSpan.FromHours(24);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan OverflowResyncInterval = TimeSpan.FromSeconds(30);
    // The client can leave a (UN)SUBSCRIBE routed to a hung node pending well past its own timeout: never wait longer.
    private static readonly TimeSpan SubscriptionTimeout = TimeSpan.FromSeconds(5);
    private static readonly RedisChannel TokenChannel = RedisChannel.Literal(RevocationKeys.TokenChannel);
    private static readonly RedisChannel UserChannel = RedisChannel.Literal(RevocationKeys.UserChannel);
    private static readonly RedisChannel[] Channels = [TokenChannel, UserChannel];

    private readonly Channel<bool> _resyncRequests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    // Subscribing again is an unsubscribe then a subscribe (SubscribeMissingAsync): two at once could register the handler twice.
    private readonly SemaphoreSlim _subscriptionChanges = new(1, 1);
    // Per channel (the order of Channels): our handler registered by a SUBSCRIBE that succeeded, and not unsubscribed since.
    // Until both are, the subscription is not live whatever the client says of the channel (and it is not even asked).
    private readonly bool[] _registered = new bool[Channels.Length];
    // _synchronised and _generation change together: every event that can have cost messages bumps the generation, and a
    // resync marks the cache synchronised only if none came since its scan began (the event's own resync decides).
    private readonly object _syncState = new();
    private long _generation;
    private volatile bool _synchronised;
    // The reason of the last failed (re)subscription, logged once until it changes or the subscription is live (under _subscriptionChanges).
    private string? _subscriptionError;

    private ISubscriber Subscriber => stores.Blacklist.GetSubscriber();

    /// <summary>
    /// Both channels subscribed with our handler on a connected node: without either, one kind of revocation would be
    /// missed. Never throws: before our handler was registered the connection is not asked (with the HA store it has no
    /// subscriber until the Sentinels agree), and a connection that fails to answer counts as not live.
    /// </summary>
    public bool SubscriptionLive
    {
        get
        {
            if (!Registered(0) || !Registered(1))
            {
                return false;
            }
            try
            {
                var subscriber = Subscriber;
                return IsSubscribed(subscriber, TokenChannel) && IsSubscribed(subscriber, UserChannel);
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// A user revocation received on the user channel, raised once the cache holds it (the decision cache drops that
    /// user's decisions). Handlers run on the client's message thread: they must return at once.
    /// </summary>
    public event Action<string>? UserRevoked;

    /// <summary>True while the cache holds everything the store holds: subscribed and resynchronised since the last disconnect.</summary>
    public bool Synchronised => _synchronised && SubscriptionLive;

    public DateTimeOffset? LastSync { get; private set; }

    /// <summary>
    /// Whether this process has once resynchronised with the subscription live. Until then its cache is empty or
    /// partial (the process may have started during a store outage): it is not ready and refuses tokens (503).
    /// </summary>
    public bool EverSynchronised => _everSynchronised;

    private volatile bool _everSynchronised;
    private DateTimeOffset _lastOverflowResync;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        stores.Blacklist.ConnectionFailed += OnConnectionFailed;
        stores.Blacklist.ConnectionRestored += OnConnectionRestored;
        if (stores.BlacklistPrimary is { } sentinels)
        {
            sentinels.Changed += OnPrimaryChanged;
        }
        _ = SweepAsync(stoppingToken);
        try
        {
            await SubscribeAsync(stoppingToken);
            RequestResync();
            await foreach (var _ in _resyncRequests.Reader.ReadAllAsync(stoppingToken))
            {
                await ResyncUntilDoneAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            stores.Blacklist.ConnectionFailed -= OnConnectionFailed;
            stores.Blacklist.ConnectionRestored -= OnConnectionRestored;
            if (stores.BlacklistPrimary is { } watched)
            {
                watched.Changed -= OnPrimaryChanged;
            }
        }
    }

    public void RequestResync() => _resyncRequests.Writer.TryWrite(true);

    /// <summary>
    /// Learns every revocation of the store now. Automatic resyncs add to the cache and never drop anything; the
    /// operator's explicit sync (`dive redis blacklist sync`, <paramref name="replace"/>) also forgets what the store no
    /// longer holds (revocations deleted on purpose), but only when the node it scanned answered ROLE as the primary
    /// before and after the scan (HA); otherwise it merges too.
    /// </summary>
    public async Task<(int Tokens, int Users)> ResyncAsync(CancellationToken ct, bool replace = false)
    {
        long generation;
        lock (_syncState)
        {
            generation = _generation;
        }
        var scanStartedAt = clock.GetUtcNow();
        // One node for every step: the primary may change during the scan, and the ROLE checks must be of the node read.
        var node = store.ScanTarget;
        logger.LogDebug("Resynchronising the revocation cache from {Node}", node?.EndPoint);
        replace = replace && await store.IsPrimaryAsync(node);
        var tokens = await store.SnapshotAsync(RevocationKind.Token, node, ct);
        var users = await store.SnapshotAsync(RevocationKind.User, node, ct);
        if (replace && await store.IsPrimaryAsync(node))
        {
            cache.ReplaceWith(tokens, users, scanStartedAt);
        }
        else
        {
            cache.MergeWith(tokens, users, scanStartedAt);
        }
        LastSync = clock.GetUtcNow();
        var live = SubscriptionLive;
        lock (_syncState)
        {
            // A connection loss or failover since the scan began may have cost messages the scan did not see (it may even
            // have read the deposed primary): not synchronised; the resync that event requested decides.
            _synchronised = live && _generation == generation;
            _everSynchronised |= _synchronised;
        }
        DiveMetrics.RevocationSubscriberConnected.Set(live ? 1 : 0);
        logger.LogInformation("Revocation cache resynchronised from the shared store: {Tokens} tokens, {Users} users", tokens.Count, users.Count);
        return (tokens.Count, users.Count);
    }

    /// <summary>Whether our handler is registered on <c>Channels[index]</c> by a SUBSCRIBE that succeeded.</summary>
    private bool Registered(int index) => Volatile.Read(ref _registered[index]);

    /// <summary>Messages may have been missed: not synchronised, and no resync that began before counts.</summary>
    private void Desynchronise()
    {
        lock (_syncState)
        {
            _generation++;
            _synchronised = false;
        }
    }

    private async Task SubscribeAsync(CancellationToken ct)
    {
        // Subscribing while disconnected would only queue and time out; wait for the store first.
        while (!(stores.Blacklist.IsConnected && await SubscribeMissingAsync()))
        {
            await Task.Delay(RetryDelay, ct);
        }
        DiveMetrics.RevocationSubscriberConnected.Set(1);
        logger.LogInformation("Subscribed to {TokenChannel} and {UserChannel}", RevocationKeys.TokenChannel, RevocationKeys.UserChannel);
    }

    /// <summary>
    /// Subscribes each channel that is not subscribed with our handler: never yet, unsubscribed after a failover, or its
    /// SUBSCRIBE failed (refused by an ACL, timed out, connection lost between the two channels), which the client does not
    /// retry until its next reconnect. True when both are. A failure is logged once per reason, not at every attempt.
    /// </summary>
    private async Task<bool> SubscribeMissingAsync()
    {
        await _subscriptionChanges.WaitAsync();
        try
        {
            for (var i = 0; i < Channels.Length; i++)
            {
                var channel = Channels[i];
                if (!Registered(i) || !IsSubscribed(Subscriber, channel))
                {
                    Volatile.Write(ref _registered[i], false);
                    // A failed SUBSCRIBE leaves the handler registered, and the client calls a handler once per registration.
                    // Ours being the channel's only handler, this also drops the client's subscription (UNSUBSCRIBE), so the
                    // SUBSCRIBE below is sent anew to the node the client routes it to now, never skipped as already done.
                    await Subscriber.UnsubscribeAsync(channel, OnMessage).WaitAsync(SubscriptionTimeout);
                    await Subscriber.SubscribeAsync(channel, OnMessage).WaitAsync(SubscriptionTimeout);
                    Volatile.Write(ref _registered[i], true);
                }
            }
        }
        // The client also cancels a SUBSCRIBE whose connection it gives up (TaskCanceledException): a failed attempt too,
        // never a reason to end the subscriber.
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            var reason = ex is RedisServerException ? ex.Message : ex.GetType().Name;
            if (!string.Equals(reason, _subscriptionError, StringComparison.Ordinal))
            {
                logger.LogWarning("Revocation subscription failed, retrying every {Delay} ms (logged again when the reason changes): {Error}",
                    RetryDelay.TotalMilliseconds, reason);
                _subscriptionError = reason;
            }
        }
        try
        {
            var live = SubscriptionLive;
            if (live && _subscriptionError is { } error)
            {
                logger.LogInformation("Revocation subscription live again (it had failed: {Error})", error);
                _subscriptionError = null;
            }
            return live;
        }
        finally
        {
            _subscriptionChanges.Release();
        }
    }

    /// <summary>IsConnected alone tells whether the channel could be subscribed; SubscribedEndpoint is null until a SUBSCRIBE succeeded.</summary>
    private static bool IsSubscribed(ISubscriber subscriber, RedisChannel channel) =>
        subscriber.SubscribedEndpoint(channel) is not null && subscriber.IsConnected(channel);

    /// <summary>
    /// Whether a connection event of <paramref name="endpoint"/> can have cost messages. With the HA store the client holds a
    /// subscription connection to every node, but the channels are subscribed on one; a channel subscribed nowhere counts as affected.
    /// </summary>
    private bool AffectsSubscription(EndPoint? endpoint)
    {
        ISubscriber subscriber;
        try
        {
            subscriber = Subscriber;
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            return true;
        }
        return subscriber.SubscribedEndpoint(TokenChannel) is not { } token || subscriber.SubscribedEndpoint(UserChannel) is not { } user
            || token.Equals(endpoint) || user.Equals(endpoint);
    }

    private async Task ResyncUntilDoneAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // A resync before both channels are subscribed could miss a message sent in between: subscribe them first.
            if (SubscriptionLive || (stores.Blacklist.IsConnected && await SubscribeMissingAsync()))
            {
                try
                {
                    await ResyncAsync(ct);
                    // Unless a connection event or failover came during the scan: then once more, the subscription being live.
                    if (_synchronised || !SubscriptionLive)
                    {
                        return;
                    }
                    continue;
                }
                catch (RevocationStoreUnavailableException ex)
                {
                    logger.LogWarning("Revocation resync failed, retrying: {Error}", ex.InnerException?.GetType().Name ?? ex.Message);
                }
            }
            await Task.Delay(RetryDelay, ct);
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue value)
    {
        var message = RevocationMessage.TryParse(value);
        if (message is null)
        {
            logger.LogWarning("Ignored a malformed message on {Channel}", channel.ToString());
            return;
        }
        DiveMetrics.RevocationsReceived.WithLabels(message.Type).Inc();
        var now = clock.GetUtcNow();
        var provisional = message.Kind == RevocationKind.User
            ? (message.Timestamp > now ? message.Timestamp : now) + RevocationKeys.DefaultUserTtl
            : now + ProvisionalTokenTtl;
        // Enforced at once; the exact expiry follows from the key's TTL.
        cache.AddProvisional(message.Kind, message.Identifier, provisional);
        if (message.Kind == RevocationKind.User && UserRevoked is { } userRevoked)
        {
            try
            {
                userRevoked(message.Identifier);
            }
            catch (Exception ex)
            {
                logger.LogWarning("A handler of a user revocation failed: {Error}", ex.GetType().Name);
            }
        }
        if (message.SourceInstance != instance.Code)
        {
            // Same-host clocks make this exact; across hosts it also carries their clock offset (NTP: milliseconds).
            DiveMetrics.RevocationPropagation.WithLabels(message.Type).Observe(Math.Max(0, (now - message.Timestamp).TotalSeconds));
        }
        _ = RefineExpiryAsync(message.Kind, message.Identifier);
    }

    private async Task RefineExpiryAsync(RevocationKind kind, string identifier)
    {
        try
        {
            // A key that is gone or shorter than what this cache knows does not end the revocation here: a stale node, or
            // anyone who can expire the key and publish, could otherwise lift a revocation on every backend at once.
            if (await store.ExpiryAsync(kind, identifier) is { } expiresAt)
            {
                cache.Add(kind, identifier, expiresAt);
            }
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            // Keep the provisional expiry: a revocation kept too long is harmless, one dropped too early is not.
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription && AffectsSubscription(e.EndPoint))
        {
            Desynchronise();
            DiveMetrics.RevocationSubscriberConnected.Set(0);
            // Each event is raised on a thread-pool work item of its own: a loss can arrive after its reconnect's
            // ConnectionRestored and resync. With the subscription live again, only another resync makes this true again.
            if (SubscriptionLive)
            {
                RequestResync();
            }
        }
        DiveMetrics.RevocationStoreUp.Set(stores.Blacklist.IsConnected ? 1 : 0);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (AffectsSubscription(e.EndPoint))
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                DiveMetrics.RevocationPubSubReconnects.Inc();
                Desynchronise();
            }
            RequestResync();
        }
        DiveMetrics.RevocationStoreUp.Set(stores.Blacklist.IsConnected ? 1 : 0);
    }

    /// <summary>
    /// HA: the Sentinels promoted another node. Messages published on the new primary may have been missed (the
    /// subscription can sit on a node that was not yet following it): resubscribe where the multiplexer now sees the
    /// primary and resynchronise from it, as after any reconnect.
    /// </summary>
    private void OnPrimaryChanged(EndPoint primary)
    {
        Desynchronise();
        DiveMetrics.RevocationPubSubReconnects.Inc();
        _ = ResubscribeAsync();
    }

    private async Task ResubscribeAsync()
    {
        try
        {
            // The multiplexer re-reads every node's role now rather than when its connections happen to drop.
            await stores.Blacklist.ConfigureAsync();
            if (await UnsubscribeOffPrimaryAsync() && await SubscribeMissingAsync())
            {
                logger.LogInformation("Revocation subscription moved to {Endpoint} after a failover", Subscriber.SubscribedEndpoint(TokenChannel));
            }
        }
        catch (Exception ex) when (RedisFailures.Is(ex))
        {
            logger.LogWarning("Revocation resubscription after a failover failed: {Error}", ex.GetType().Name);
        }
        // Whatever failed above, the resync first subscribes what is not subscribed, retrying until both channels are.
        RequestResync();
    }

    /// <summary>Unsubscribes each channel subscribed on another node than the primary; true when there was one.</summary>
    private async Task<bool> UnsubscribeOffPrimaryAsync()
    {
        if (stores.BlacklistPrimary?.Current is not { } primary)
        {
            return false;
        }
        var moved = false;
        await _subscriptionChanges.WaitAsync();
        try
        {
            for (var i = 0; i < Channels.Length; i++)
            {
                var channel = Channels[i];
                if (Subscriber.SubscribedEndpoint(channel) is { } current && !current.Equals(primary))
                {
                    moved = true;
                    Volatile.Write(ref _registered[i], false);
                    try
                    {
                        await Subscriber.UnsubscribeAsync(channel, OnMessage).WaitAsync(SubscriptionTimeout);
                    }
                    catch (Exception ex) when (RedisFailures.Is(ex))
                    {
                        // The old node did not answer (hung, gone): the handler is unregistered all the same, so the
                        // channel is subscribed again with the other. The next channel must not stay behind on that node.
                        logger.LogWarning("Unsubscribing {Channel} from {Endpoint} failed: {Error}", channel.ToString(), current, ex.GetType().Name);
                    }
                }
            }
        }
        finally
        {
            _subscriptionChanges.Release();
        }
        return moved;
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                cache.Sweep();
                // A full cache refused revocations: once expiries made room, learn them from the store (at most every 30 s).
                if (cache.Overflowed && cache.Count < cache.MaxEntries && clock.GetUtcNow() - _lastOverflowResync > OverflowResyncInterval)
                {
                    _lastOverflowResync = clock.GetUtcNow();
                    RequestResync();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
