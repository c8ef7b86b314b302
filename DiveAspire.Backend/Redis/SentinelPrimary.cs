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
/// </summary>
public sealed class SentinelPrimary : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    /// <summary>How long the start-up discovery waits for a majority of the Sentinels by default (<see cref="DiscoverySecondsKey"/>).</summary>
    public static readonly TimeSpan DefaultDiscoveryTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Configuration key of the discovery timeout, in seconds (default 60).</summary>
    public const string DiscoverySecondsKey = "Dive:Redis:SentinelDiscoverySeconds";
    // How long an agreed primary waits for its replicas to be named before the connection goes on with what is known.
    private static readonly TimeSpan ReplicaWait = TimeSpan.FromSeconds(30);
    private static readonly int ExpectedReplicas = BlacklistHighAvailability.Default.DataNodes.Count - 1;

    private readonly ConnectionMultiplexer _sentinels;
    private readonly string _serviceName;
    private readonly ILogger _logger;
    private readonly TimeSpan _discoveryTimeout;
    private readonly Timer _poll;
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
        _sentinelCount = sentinelOptions.EndPoints.Count;
        _quorum = _sentinelCount / 2 + 1;
        _sentinels = ConnectionMultiplexer.SentinelConnect(sentinelOptions);
        // Why a Sentinel is not connected, for the discovery's error (reconnects report here; the first connect does not).
        _sentinels.ConnectionFailed += (_, failed) =>
        {
            if (failed.EndPoint is { } endpoint)
            {
                _lastFailure[endpoint] = $"{failed.FailureType}: {failed.Exception?.Message}";
            }
        };
        // Fire-and-forget: a synchronous SUBSCRIBE with no Sentinel connected (not started yet, hung) throws after the sync
        // timeout and killed the backend at start. The handler is registered either way, and the client subscribes it
        // whenever a Sentinel's subscription connection is established; the poll covers the time until then.
        _sentinels.GetSubscriber().Subscribe(RedisChannel.Literal("+switch-master"), (_, _) => _ = RefreshAsync(), CommandFlags.FireAndForget);
        _poll = new Timer(_ => _ = RefreshAsync(), null, TimeSpan.Zero, PollInterval);
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
    /// foreign Sentinel answering first cannot hand the connection another set of nodes). Waits up to the discovery timeout (60 s by default) for a majority, 30 s for the replicas.
    /// </summary>
    public ConfigurationOptions DataNodeOptions(ConfigurationOptions options)
    {
        var started = DateTime.UtcNow;
        var deadline = started + _discoveryTimeout;
        while (true)
        {
            var answers = SentinelServers().Select(Describe).ToList();
            var loopback = answers.Where(a => a.Refusal is not null).ToList();
            if (loopback.Count > _sentinelCount - _quorum)
            {
                // No majority can form any more: say why at once instead of after the whole discovery timeout.
                var reason = loopback[0].Refusal!;
                _logger.LogError("Shared store {Service}: {Reason}", _serviceName, reason);
                throw new InvalidOperationException(reason);
            }
            var agreed = answers.Where(a => a.Primary is not null).GroupBy(a => a.Primary!).FirstOrDefault(g => g.Count() >= _quorum);
            if (agreed is not null)
            {
                // A replica counts when a majority names it (one Sentinel that has not met a replica yet is outvoted by two that have).
                var replicas = agreed.SelectMany(a => a.Replicas.Distinct()).GroupBy(r => r).Where(g => g.Count() >= Math.Min(_quorum, agreed.Count())).Select(g => g.Key).ToList();
                // A Sentinel learns the replicas from the primary within seconds of its start; the connection can
                // only ever use the nodes it starts with, so wait for all of them (then go on with what is known).
                if (replicas.Count >= ExpectedReplicas || DateTime.UtcNow >= started + ReplicaWait)
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
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"No {_quorum} of the {_sentinelCount} Sentinels of '{_serviceName}' agreed on its primary within {_discoveryTimeout.TotalSeconds} s ({SentinelStates(answers)}).");
            }
            Thread.Sleep(500);
        }
    }

    /// <summary>What one Sentinel says of the data nodes: nothing when it does not answer (<paramref name="Error"/> says why), a refusal when it names a loopback node from elsewhere.</summary>
    private sealed record SentinelAnswer(EndPoint? Primary, EndPoint[] Replicas, string? Refusal = null, EndPoint? Sentinel = null, string? Error = null);

    /// <summary>Each configured Sentinel's part in a failed discovery (not connected, no answer, or the primary it names), so that the error says which ones were missing.</summary>
    private string SentinelStates(IReadOnlyList<SentinelAnswer> answers) => string.Join("; ", _sentinels.GetEndPoints().Select(endpoint =>
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

    private SentinelAnswer Describe(IServer sentinel)
    {
        try
        {
            if (sentinel.SentinelGetMasterAddressByName(_serviceName) is not { } primary)
            {
                return new(null, [], Sentinel: sentinel.EndPoint);
            }
            // A Sentinel that named the primary keeps its vote even if its replica list times out (a loaded machine at
            // start-up): the replicas are waited for below anyway.
            EndPoint[] replicas;
            try
            {
                replicas = sentinel.SentinelGetReplicaAddresses(_serviceName);
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

    private IEnumerable<IServer> SentinelServers() =>
        _sentinels.GetEndPoints().Select(e => _sentinels.GetServer(e)).Where(s => s.IsConnected);

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
        await _poll.DisposeAsync();
        await _sentinels.DisposeAsync();
    }
}
