using System.Net;
using StackExchange.Redis;
using StackExchange.Redis.Maintenance;
using StackExchange.Redis.Profiling;

namespace DiveAspire.Backend.Redis;

/// <summary>
/// The HA shared store's keyed <c>blacklist</c> connection (<see cref="RedisStores.Blacklist"/>): the data nodes a
/// majority of the Sentinels name. They are known only once the Sentinels agree (<see cref="SentinelPrimary"/>), which
/// may be long after the start (Sentinels down, hung or cut off), so the connection to them is made in the background
/// (<see cref="SharedStoreDiscovery"/>) and handed over here. Until then this is a connection to a store that is down:
/// not connected, no endpoint, and every command fails at once with <see cref="RedisConnectionException"/>, as a
/// connection to an unreachable store does; the backend starts and serves as during a store outage. Afterwards every
/// call goes to the real connection, and the handlers registered on its events before the handover receive them.
/// </summary>
public sealed class DataNodeConnection(string serviceName, ConfigurationOptions options) : IConnectionMultiplexer
{
    private readonly object _gate = new();
    private readonly List<string> _librarySuffixes = [];
    private volatile IConnectionMultiplexer? _inner;
    private Func<ProfilingSession?>? _profiler;
    private bool _disposed;
    private int _stormLogThreshold = 15;
    private bool _includeDetailInExceptions = true;

    /// <summary>Whether the data nodes are known and this forwards to a connection to them.</summary>
    public bool HasDataNodes => _inner is not null;

    /// <summary>Hands over the connection to the data nodes (once); disposed at once when this one already is.</summary>
    internal void Attach(IConnectionMultiplexer dataNodes)
    {
        lock (_gate)
        {
            if (_disposed || _inner is not null)
            {
                dataNodes.Dispose();
                return;
            }
            if (_profiler is { } profiler)
            {
                dataNodes.RegisterProfiler(profiler);
            }
            foreach (var suffix in _librarySuffixes)
            {
                dataNodes.AddLibraryNameSuffix(suffix);
            }
            dataNodes.StormLogThreshold = _stormLogThreshold;
            dataNodes.ErrorMessage += (_, e) => ErrorMessage?.Invoke(this, e);
            dataNodes.ConnectionFailed += (_, e) => ConnectionFailed?.Invoke(this, e);
            dataNodes.InternalError += (_, e) => InternalError?.Invoke(this, e);
            dataNodes.ConnectionRestored += (_, e) => ConnectionRestored?.Invoke(this, e);
            dataNodes.ConfigurationChanged += (_, e) => ConfigurationChanged?.Invoke(this, e);
            dataNodes.ConfigurationChangedBroadcast += (_, e) => ConfigurationChangedBroadcast?.Invoke(this, e);
            dataNodes.ServerMaintenanceEvent += (_, e) => ServerMaintenanceEvent?.Invoke(this, e);
            dataNodes.HashSlotMoved += (_, e) => HashSlotMoved?.Invoke(this, e);
            _inner = dataNodes;
        }
    }

    private RedisConnectionException NotYet() =>
        new(ConnectionFailureType.UnableToConnect, $"No majority of the Sentinels of '{serviceName}' has named its data nodes yet");

    private IConnectionMultiplexer Inner => _inner ?? throw NotYet();

    public string ClientName => _inner?.ClientName ?? options.ClientName ?? "";
    public string Configuration => _inner?.Configuration ?? "";
    public int TimeoutMilliseconds => _inner?.TimeoutMilliseconds ?? options.SyncTimeout;
    public long OperationCount => _inner?.OperationCount ?? 0;

    [Obsolete("Not supported by StackExchange.Redis either")]
    public bool PreserveAsyncOrder { get => false; set { } }

    public bool IsConnected => _inner?.IsConnected ?? false;
    public bool IsConnecting => _inner?.IsConnecting ?? false;

#pragma warning disable CS0619 // the interface's member is obsolete as an error; it is implemented all the same
    bool IConnectionMultiplexer.IncludeDetailInExceptions { get => _includeDetailInExceptions; set => _includeDetailInExceptions = value; }
#pragma warning restore CS0619

    public int StormLogThreshold
    {
        get => _inner?.StormLogThreshold ?? _stormLogThreshold;
        set
        {
            lock (_gate)
            {
                _stormLogThreshold = value;
                if (_inner is { } inner)
                {
                    inner.StormLogThreshold = value;
                }
            }
        }
    }

    public void RegisterProfiler(Func<ProfilingSession?> profilingSessionProvider)
    {
        lock (_gate)
        {
            _profiler = profilingSessionProvider;
            _inner?.RegisterProfiler(profilingSessionProvider);
        }
    }

    public void AddLibraryNameSuffix(string suffix)
    {
        lock (_gate)
        {
            _librarySuffixes.Add(suffix);
            _inner?.AddLibraryNameSuffix(suffix);
        }
    }

    public ServerCounters GetCounters() => Inner.GetCounters();

    public event EventHandler<RedisErrorEventArgs>? ErrorMessage;
    public event EventHandler<ConnectionFailedEventArgs>? ConnectionFailed;
    public event EventHandler<InternalErrorEventArgs>? InternalError;
    public event EventHandler<ConnectionFailedEventArgs>? ConnectionRestored;
    public event EventHandler<EndPointEventArgs>? ConfigurationChanged;
    public event EventHandler<EndPointEventArgs>? ConfigurationChangedBroadcast;
    public event EventHandler<ServerMaintenanceEvent>? ServerMaintenanceEvent;
    public event EventHandler<HashSlotMovedEventArgs>? HashSlotMoved;

    public EndPoint[] GetEndPoints(bool configuredOnly = false) => _inner?.GetEndPoints(configuredOnly) ?? [];
    public void Wait(Task task) => Inner.Wait(task);
    public T Wait<T>(Task<T> task) => Inner.Wait(task);
    public void WaitAll(params Task[] tasks) => Inner.WaitAll(tasks);
    public int HashSlot(RedisKey key) => _inner?.HashSlot(key) ?? -1;
    public int GetHashSlot(RedisKey key) => _inner?.GetHashSlot(key) ?? -1;
    public ISubscriber GetSubscriber(object? asyncState = null) => Inner.GetSubscriber(asyncState);
    public IDatabase GetDatabase(int db = -1, object? asyncState = null) => Inner.GetDatabase(db, asyncState);
    public IServer GetServer(string host, int port, object? asyncState = null) => Inner.GetServer(host, port, asyncState);
    public IServer GetServer(string hostAndPort, object? asyncState = null) => Inner.GetServer(hostAndPort, asyncState);
    public IServer GetServer(IPAddress host, int port) => Inner.GetServer(host, port);
    public IServer GetServer(EndPoint endpoint, object? asyncState = null) => Inner.GetServer(endpoint, asyncState);
    public IServer GetServer(RedisKey key, object? asyncState = null, CommandFlags flags = CommandFlags.None) => Inner.GetServer(key, asyncState, flags);
    public IServer[] GetServers() => _inner?.GetServers() ?? [];
    public Task<bool> ConfigureAsync(TextWriter? log = null) => _inner?.ConfigureAsync(log) ?? Task.FromResult(false);
    public bool Configure(TextWriter? log = null) => _inner?.Configure(log) ?? false;
    public string GetStatus() => _inner?.GetStatus() ?? NotYet().Message;
    public void GetStatus(TextWriter log)
    {
        if (_inner is { } inner)
        {
            inner.GetStatus(log);
        }
        else
        {
            log.WriteLine(NotYet().Message);
        }
    }

    public string? GetStormLog() => _inner?.GetStormLog();
    public void ResetStormLog() => _inner?.ResetStormLog();
    public long PublishReconfigure(CommandFlags flags = CommandFlags.None) => Inner.PublishReconfigure(flags);
    public Task<long> PublishReconfigureAsync(CommandFlags flags = CommandFlags.None) => Inner.PublishReconfigureAsync(flags);
    public void ExportConfiguration(Stream destination, ExportOptions options = ExportOptions.All) => Inner.ExportConfiguration(destination, options);
    public override string ToString() => _inner?.ToString() ?? ClientName;

    public void Close(bool allowCommandsToComplete = true) => Detach()?.Close(allowCommandsToComplete);

    public Task CloseAsync(bool allowCommandsToComplete = true) => Detach()?.CloseAsync(allowCommandsToComplete) ?? Task.CompletedTask;

    public void Dispose() => Detach()?.Dispose();

    public ValueTask DisposeAsync() => Detach()?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>No connection is handed over after this; the one handed over, if any, is the caller's to close.</summary>
    private IConnectionMultiplexer? Detach()
    {
        lock (_gate)
        {
            _disposed = true;
            return _inner;
        }
    }
}
