using System.Net;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Backend.Redis;

/// <summary>
/// The highly available shared store (issue 14): its connection string names the Sentinels and
/// <c>serviceName=dive-blacklist</c>. This asks the Sentinels where the data nodes are (at start) and which one is
/// the primary (on every <c>+switch-master</c> and every half second; a majority of them must agree and the node must
/// answer ROLE as a master), so that a revocation is written to the node the
/// Sentinels promoted, never to a deposed primary that still believes it is one (a hung primary that resumes).
/// StackExchange.Redis's own Sentinel mode is not used for the data connection: it throws at start when the primary is
/// down (a backend must start during an outage) and keeps using a resumed old primary until that one is reconfigured.
/// Nothing here runs on the start-up path: the Sentinels are connected and asked by <see cref="DataNodeOptionsAsync"/>
/// in the background (<see cref="SharedStoreDiscovery"/>), for as long as it takes them to agree.
/// </summary>
public sealed class SentinelPrimary : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    /// <summary>
    /// How long the discovery waits for a majority of the Sentinels before it says so (a warning, then again after each
    /// further period; it goes on waiting), by default (<see cref="DiscoverySecondsKey"/>).
    /// </summary>
    public static readonly TimeSpan DefaultDiscoveryTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Configuration key of the discovery timeout, in seconds (default 60).</summary>
    public const string DiscoverySecondsKey = "Dive:Redis:SentinelDiscoverySeconds";

    /// <summary>How often a refused <c>+switch-master</c> subscription is tried again (the 0.5 s poll covers failovers meanwhile).</summary>
    public static readonly TimeSpan SubscriptionRetry = TimeSpan.FromSeconds(10);
    private static readonly RedisChannel SwitchMaster = RedisChannel.Literal("+switch-master");
    // How long an agreed primary waits for its replicas to be named before the connection goes on with what is known.
    private static readonly TimeSpan ReplicaWait = TimeSpan.FromSeconds(30);
    private static readonly int ExpectedReplicas = BlacklistHighAvailability.Default.DataNodes.Count - 1;

    private readonly ConfigurationOptions _sentinelOptions;
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _serviceName;
    private readonly ILogger _logger;
    private readonly TimeSpan _discoveryTimeout;
    private ConnectionMultiplexer? _sentinels;
    private Timer? _poll;
    private readonly int _sentinelCount;
    private readonly int _quorum;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<EndPoint, bool> _reachesThisMachine = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<EndPoint, string> _lastFailure = new();
    private IConnectionMultiplexer? _dataNodes;
    private string? _refusal;
    private int _polling;

    private SentinelPrimary(ConfigurationOptions options, ILogger logger, TimeSpan discoveryTimeout)
    {
        _serviceName = options.ServiceName!;
        _logger = logger;
        _discoveryTimeout = discoveryTimeout;
        var sentinelOptions = options.Clone();
        sentinelOptions.ServiceName = null;
        sentinelOptions.CommandMap = CommandMap.Sentinel;
        sentinelOptions.AbortOnConnectFail = false;
        // A hung Sentinel (SIGSTOP, partition) must not hold up the poll: the others answer within milliseconds.
        sentinelOptions.SyncTimeout = 1000;
        sentinelOptions.AsyncTimeout = 1000;
        _sentinelOptions = sentinelOptions;
        _sentinelCount = sentinelOptions.EndPoints.Count;
        _quorum = _sentinelCount / 2 + 1;
    }

    /// <summary>
    /// Connects to the Sentinels (it returns whether or not any answers: the client keeps reconnecting), then watches
    /// them: <c>+switch-master</c> and the half-second poll.
    /// </summary>
    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var sentinels = await ConnectionMultiplexer.SentinelConnectAsync(_sentinelOptions).ConfigureAwait(false);
        // Why a Sentinel is not connected, for the discovery's warnings (reconnects report here; the first connect does not).
        sentinels.ConnectionFailed += (_, failed) =>
        {
            if (failed.EndPoint is { } endpoint)
            {
                _lastFailure[endpoint] = $"{failed.FailureType}: {failed.Exception?.Message}";
            }
        };
        _sentinels = sentinels;
        _ = WatchSwitchMasterAsync(sentinels, _stopping.Token);
        _poll = new Timer(_ => _ = RefreshAsync(), null, TimeSpan.Zero, PollInterval);
        return sentinels;
    }

    /// <summary>Why the Sentinels' answers were refused for good at start (no majority can form), which stops the backend; else null.</summary>
    public string? StartRefusal { get; private set; }

    /// <summary>
    /// Subscribes to <c>+switch-master</c> and keeps it subscribed. Never on the start-up path and never fatal: with no
    /// Sentinel connected (not started yet, hung) the attempt fails and is tried again a second later. A Sentinel that
    /// refuses it (an ACL user without the channel: NOPERM) is a warning, once per reason, and a retry every
    /// <see cref="SubscriptionRetry"/>; failovers are then noticed by the half-second poll only. StackExchange.Redis
    /// completes a SUBSCRIBE before it records where the channel is subscribed, and a refused one without an error (the
    /// refusal is an error message of the connection only): each attempt waits a second for either.
    /// </summary>
    private async Task WatchSwitchMasterAsync(ConnectionMultiplexer sentinels, CancellationToken ct)
    {
        var subscriber = sentinels.GetSubscriber();
        var errors = System.Threading.Channels.Channel.CreateUnbounded<(EndPoint Sentinel, string Error)>();
        sentinels.ErrorMessage += (_, e) =>
        {
            if (e.Message.Contains("channel", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("subscribe", StringComparison.OrdinalIgnoreCase))
            {
                errors.Writer.TryWrite((e.EndPoint, e.Message.Split('\n')[0].Trim()));
            }
        };
        Action<RedisChannel, RedisValue>? handler = null;
        string? refused = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (subscriber.SubscribedEndpoint(SwitchMaster) is { } subscribed)
                {
                    if (refused is not null)
                    {
                        _logger.LogInformation("Shared store {Service}: subscribed to +switch-master on the Sentinel at {Sentinel} after all",
                            _serviceName, EndPointCollection.ToString(subscribed));
                        refused = null;
                    }
                }
                else if (SentinelServers().Any())
                {
                    while (errors.Reader.TryRead(out _))
                    {
                        // Reports of earlier attempts.
                    }
                    try
                    {
                        // A refused SUBSCRIBE leaves its handler registered with the client: one handler at a time.
                        if (handler is not null)
                        {
                            await subscriber.UnsubscribeAsync(SwitchMaster, handler, CommandFlags.FireAndForget).ConfigureAwait(false);
                        }
                        handler = (_, _) => _ = RefreshAsync();
                        await subscriber.SubscribeAsync(SwitchMaster, handler).ConfigureAwait(false);
                        if (await RefusalAsync(subscriber, errors.Reader, ct).ConfigureAwait(false) is { } refusal)
                        {
                            // Once per reason, whichever Sentinel the client tried.
                            if (!string.Equals(refusal.Error, refused, StringComparison.Ordinal))
                            {
                                _logger.LogWarning("Shared store {Service}: the Sentinel at {Sentinel} refused the +switch-master subscription ({Reason}): failovers are noticed by the {Poll} s poll only; retrying every {Retry} s",
                                    _serviceName, EndPointCollection.ToString(refusal.Sentinel), refusal.Error, PollInterval.TotalSeconds, SubscriptionRetry.TotalSeconds);
                            }
                            refused = refusal.Error;
                        }
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
                    {
                        // No Sentinel answering yet (or it is hung): the next attempt follows shortly.
                    }
                }
                await Task.Delay(refused is null || subscriber.SubscribedEndpoint(SwitchMaster) is not null ? TimeSpan.FromSeconds(1) : SubscriptionRetry, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // Disposed while stopping.
        }
    }

    /// <summary>The error the connection reported for the SUBSCRIBE just sent, unless the channel is subscribed first (within a second); else null.</summary>
    private static async Task<(EndPoint Sentinel, string Error)?> RefusalAsync(ISubscriber subscriber, System.Threading.Channels.ChannelReader<(EndPoint Sentinel, string Error)> errors, CancellationToken ct)
    {
        for (var waited = 0; waited < 1000; waited += 50)
        {
            if (subscriber.SubscribedEndpoint(SwitchMaster) is not null)
            {
                return null;
            }
            if (errors.TryRead(out var error))
            {
                return error;
            }
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        return null;
    }

    /// <summary>Null unless the connection string names a Sentinel service.</summary>
    public static SentinelPrimary? For(string? connectionString, ILoggerFactory loggers, TimeSpan? discoveryTimeout = null) =>
        connectionString is not null && ConfigurationOptions.Parse(connectionString) is { ServiceName.Length: > 0 } options
            ? new SentinelPrimary(options, loggers.CreateLogger("DiveAspire.Redis.Sentinel"), discoveryTimeout ?? DefaultDiscoveryTimeout)
            : null;

    /// <summary><see cref="DiscoverySecondsKey"/> when set to a positive number of seconds, else 60 s.</summary>
    public static TimeSpan DiscoveryTimeoutFrom(IConfiguration configuration) =>
        int.TryParse(configuration[DiscoverySecondsKey], out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : DefaultDiscoveryTimeout;

    /// <summary>
    /// The data node a majority of the Sentinels name as primary and which answered ROLE as a master when it was taken
    /// (null until then).
    /// </summary>
    public EndPoint? Current { get; private set; }

    /// <summary>Raised when the Sentinels name another primary (a failover): subscriptions and caches follow it.</summary>
    public event Action<EndPoint>? Changed;

    /// <summary>
    /// The options of a plain connection to every data node (primary and replicas), with the credentials and settings of
    /// <paramref name="options"/>: the nodes a majority of the Sentinels (2 of 3) name, as for a failover (one stale or
    /// foreign Sentinel answering first cannot hand the connection another set of nodes). Waits for a majority for as
    /// long as it takes (a one-line warning after each discovery timeout, 60 s by default), then up to 30 s for the
    /// replicas. Throws <see cref="InvalidOperationException"/> (one line, logged) only when no majority can ever form.
    /// </summary>
    public async Task<ConfigurationOptions> DataNodeOptionsAsync(ConfigurationOptions options, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping.Token);
        var sentinels = await ConnectAsync().ConfigureAwait(false);
        var started = DateTime.UtcNow;
        var warnAt = started + _discoveryTimeout;
        DateTime? agreedSince = null;
        while (true)
        {
            stop.Token.ThrowIfCancellationRequested();
            var answers = await Task.WhenAll(SentinelServers().Select(DescribeAsync)).ConfigureAwait(false);
            var loopback = answers.Where(a => a.Refusal is not null).ToList();
            if (loopback.Count > _sentinelCount - _quorum)
            {
                // No majority can form any more: say why at once, and stop (no Sentinel can change its mind about that).
                var reason = loopback[0].Refusal!;
                _logger.LogError("Shared store {Service}: {Reason}", _serviceName, reason);
                StartRefusal = reason;
                throw new InvalidOperationException(reason);
            }
            var agreed = answers.Where(a => a.Primary is not null).GroupBy(a => a.Primary!).FirstOrDefault(g => g.Count() >= _quorum);
            if (agreed is not null)
            {
                agreedSince ??= DateTime.UtcNow;
                // A replica counts when a majority names it (one Sentinel that has not met a replica yet is outvoted by two that have).
                var replicas = agreed.SelectMany(a => a.Replicas.Distinct()).GroupBy(r => r).Where(g => g.Count() >= Math.Min(_quorum, agreed.Count())).Select(g => g.Key).ToList();
                // A Sentinel learns the replicas from the primary within seconds of its start; the connection can
                // only ever use the nodes it starts with, so wait for all of them (then go on with what is known).
                if (replicas.Count >= ExpectedReplicas || DateTime.UtcNow >= agreedSince + ReplicaWait)
                {
                    var data = options.Clone();
                    data.ServiceName = null;
                    data.EndPoints.Clear();
                    data.EndPoints.Add(agreed.Key);
                    foreach (var replica in replicas)
                    {
                        data.EndPoints.TryAdd(replica);
                    }
                    _logger.Log(replicas.Count < ExpectedReplicas ? LogLevel.Warning : LogLevel.Information,
                        "Shared store {Service}: data nodes {Nodes}, primary {Primary} ({Agree} of {Sentinels} Sentinels agree)",
                        _serviceName, string.Join(", ", data.EndPoints), agreed.Key, agreed.Count(), _sentinelCount);
                    return data;
                }
            }
            if (DateTime.UtcNow >= warnAt)
            {
                // One line per discovery timeout while it lasts: the backend serves as during a store outage meanwhile.
                _logger.LogWarning("Shared store {Service}: no {Quorum} of the {Sentinels} Sentinels agreed on its primary within {Seconds} s ({States}); still waiting: not ready, tokens refused (503) until they do",
                    _serviceName, _quorum, _sentinelCount, (int)(DateTime.UtcNow - started).TotalSeconds, SentinelStates(sentinels, answers));
                warnAt = DateTime.UtcNow + _discoveryTimeout;
            }
            await Task.Delay(PollInterval, stop.Token).ConfigureAwait(false);
        }
    }

    /// <summary>What one Sentinel says of the data nodes: nothing when it does not answer (<paramref name="Error"/> says why), a refusal when it names a loopback node from elsewhere.</summary>
    private sealed record SentinelAnswer(EndPoint? Primary, EndPoint[] Replicas, string? Refusal = null, EndPoint? Sentinel = null, string? Error = null);

    /// <summary>Each configured Sentinel's part in a failed discovery (not connected, no answer, or the primary it names), so that the error says which ones were missing.</summary>
    private string SentinelStates(ConnectionMultiplexer sentinels, IReadOnlyList<SentinelAnswer> answers) => string.Join("; ", sentinels.GetEndPoints().Select(endpoint =>
    {
        var name = EndPointCollection.ToString(endpoint);
        var answer = answers.FirstOrDefault(a => Equals(a.Sentinel, endpoint));
        return answer switch
        {
            null => $"{name}: not connected{(_lastFailure.TryGetValue(endpoint, out var failure) ? $" ({failure})" : "")}",
            { Primary: { } primary } => $"{name}: names {EndPointCollection.ToString(primary)}",
            { Refusal: { } } => $"{name}: names a loopback node",
            { Error: { } error } => $"{name}: no answer ({error})",
            _ => $"{name}: names no primary",
        };
    }));

    private async Task<SentinelAnswer> DescribeAsync(IServer sentinel)
    {
        try
        {
            if (await sentinel.SentinelGetMasterAddressByNameAsync(_serviceName).ConfigureAwait(false) is not { } primary)
            {
                return new(null, [], Sentinel: sentinel.EndPoint);
            }
            // A Sentinel that named the primary keeps its vote even if its replica list times out (a loaded machine at
            // start-up): the replicas are waited for below anyway.
            EndPoint[] replicas;
            try
            {
                replicas = await sentinel.SentinelGetReplicaAddressesAsync(_serviceName).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                replicas = [];
            }
            return LoopbackRefusal(sentinel.EndPoint, [primary, .. replicas]) is { } refusal
                ? new(null, [], refusal, sentinel.EndPoint)
                : new(primary, replicas, Sentinel: sentinel.EndPoint);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return new(null, [], Sentinel: sentinel.EndPoint, Error: ex.GetType().Name);
        }
    }

    /// <summary>
    /// A Sentinel reached beyond this machine that names a loopback node (a hub whose Sentinels announce 127.0.0.1)
    /// would have this backend send its password to whatever listens on its own loopback: never follow it.
    /// </summary>
    private string? LoopbackRefusal(EndPoint sentinel, IEnumerable<EndPoint> named) =>
        !IsLoopback(sentinel) && named.FirstOrDefault(IsLoopback) is { } node
            ? $"the Sentinel at {EndPointCollection.ToString(sentinel)} is not on loopback but names the data node {EndPointCollection.ToString(node)} of '{_serviceName}', a loopback address: refused (the remote Sentinels must announce an address this machine can reach)"
            : null;

    private bool IsLoopback(EndPoint endpoint) => _reachesThisMachine.GetOrAdd(endpoint, ReachesThisMachine);

    /// <summary>
    /// Whether a connection to <paramref name="endpoint"/> lands on this machine: loopback (also IPv4-mapped), the
    /// unspecified addresses (0.0.0.0 and :: connect locally on Linux), <c>localhost</c>, or a name resolving to one of those.
    /// </summary>
    public static bool ReachesThisMachine(EndPoint endpoint) => endpoint switch
    {
        IPEndPoint ip => IsLocal(ip.Address),
        DnsEndPoint dns => dns.Host.TrimEnd('.') is var host && (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) ? IsLocal(address) : ResolvesLocally(host))),
        _ => false,
    };

    private static bool IsLocal(IPAddress address) =>
        IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
        || (address.IsIPv4MappedToIPv6 && IsLocal(address.MapToIPv4()));

    private static bool ResolvesLocally(string host)
    {
        try
        {
            return Dns.GetHostAddresses(host).Any(IsLocal);
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private IEnumerable<IServer> SentinelServers() => _sentinels is not { } sentinels
        ? []
        : sentinels.GetEndPoints().Select(e => sentinels.GetServer(e)).Where(s => s.IsConnected);

    /// <summary>
    /// The data nodes' connection, on which a candidate primary must answer ROLE "master" before it becomes
    /// <see cref="Current"/>. Until it is given, no primary is taken.
    /// </summary>
    public void ConfirmWith(IConnectionMultiplexer dataNodes)
    {
        _dataNodes = dataNodes;
        _ = RefreshAsync();
    }

    /// <summary>
    /// Takes a new primary only when a majority of the configured Sentinels (2 of 3) name the same node and that node
    /// answers ROLE as a master: one stale or wrong Sentinel (partitioned, restarted, not yet told of a failover, or
    /// not ours) answering first must not move writes, subscriptions and the resync to a replica or a deposed primary.
    /// </summary>
    private async Task RefreshAsync()
    {
        if (Interlocked.Exchange(ref _polling, 1) == 1)
        {
            return;
        }
        try
        {
            if (await AgreedPrimaryAsync().ConfigureAwait(false) is not { } primary || primary.Equals(Current) || !await IsPrimaryAsync(primary).ConfigureAwait(false))
            {
                return;
            }
            var previous = Current;
            Current = primary;
            _refusal = null;
            if (previous is not null)
            {
                _logger.LogWarning("Shared store {Service}: the Sentinels name a new primary {Primary} (was {Previous})", _serviceName, primary, previous);
                Changed?.Invoke(primary);
            }
        }
        finally
        {
            Volatile.Write(ref _polling, 0);
        }
    }

    /// <summary>The node a majority of the configured Sentinels name, as soon as they do (a hung Sentinel is not waited for).</summary>
    private async Task<EndPoint?> AgreedPrimaryAsync()
    {
        var pending = SentinelServers().Select(AskAsync).ToList();
        var votes = new Dictionary<EndPoint, int>();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending).ConfigureAwait(false);
            pending.Remove(done);
            if (await done.ConfigureAwait(false) is { } named && (votes[named] = votes.GetValueOrDefault(named) + 1) >= _quorum)
            {
                return named;
            }
        }
        if (votes.Count > 0)
        {
            Refuse($"no {_quorum} of {_sentinelCount} Sentinels agree on the primary ({string.Join(", ", votes.Select(v => $"{v.Key}: {v.Value}"))})");
        }
        return null;
    }

    private async Task<EndPoint?> AskAsync(IServer sentinel)
    {
        try
        {
            var named = await sentinel.SentinelGetMasterAddressByNameAsync(_serviceName).ConfigureAwait(false);
            if (named is not null && LoopbackRefusal(sentinel.EndPoint, [named]) is { } refusal)
            {
                Refuse(refusal);
                return null;
            }
            return named;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return null;
        }
    }

    private async Task<bool> IsPrimaryAsync(EndPoint candidate)
    {
        if (_dataNodes is not { } dataNodes)
        {
            return false;
        }
        try
        {
            var role = await dataNodes.GetServer(candidate).RoleAsync().ConfigureAwait(false);
            if (role.Value == "master")
            {
                return true;
            }
            Refuse($"the Sentinels name {candidate}, which answers ROLE {role.Value}");
        }
        catch (ArgumentException)
        {
            Refuse($"the Sentinels name {candidate}, which is not one of the data nodes known at start");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Refuse($"the Sentinels name {candidate}, which does not answer ROLE ({ex.GetType().Name})");
        }
        return false;
    }

    /// <summary>Why no primary was taken, logged once per reason (the poll runs every half second).</summary>
    private void Refuse(string reason)
    {
        if (!string.Equals(Interlocked.Exchange(ref _refusal, reason), reason, StringComparison.Ordinal))
        {
            _logger.LogWarning("Shared store {Service}: primary kept at {Primary}: {Reason}", _serviceName, Current?.ToString() ?? "(none yet)", reason);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_poll is { } poll)
        {
            await poll.DisposeAsync();
        }
        if (_sentinels is { } sentinels)
        {
            await sentinels.DisposeAsync();
        }
    }
}
