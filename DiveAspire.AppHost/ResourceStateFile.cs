using System.Collections.Concurrent;
using Aspire.Hosting.ApplicationModel;
using DiveAspire.Cli.AppState;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DiveAspire.AppHost;

/// <summary>
/// Keeps <c>&lt;data path&gt;/apphost-state.json</c> up to date from Aspire's resource notifications (name, type, state,
/// health, pid or container, URLs of every resource except parameters) so <c>dive ps</c> reads what this AppHost
/// actually started. Written at most twice a second, deleted when the AppHost stops.
/// </summary>
internal sealed class ResourceStateFile(ResourceNotificationService notifications, DiveOptions options, ILogger<ResourceStateFile> logger) : BackgroundService
{
    private static readonly TimeSpan WriteInterval = TimeSpan.FromMilliseconds(500);

    // The dashboard's KnownProperties.Executable.Pid and KnownProperties.Container.Id (internal to Aspire).
    private const string PidProperty = "executable.pid";
    private const string ContainerIdProperty = "container.id";

    private readonly ConcurrentDictionary<string, ResourceState> _resources = new();
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;
    private volatile bool _dirty = true;

    private string FilePath => Path.Combine(options.DataPath, AppHostState.FileName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writer = WriteLoopAsync(stoppingToken);
        try
        {
            await foreach (var update in notifications.WatchAsync(stoppingToken).ConfigureAwait(false))
            {
                var snapshot = update.Snapshot;
                if (snapshot.ResourceType == "Parameter")
                {
                    continue;
                }
                _resources[update.ResourceId] = new ResourceState(
                    update.Resource.Name,
                    update.ResourceId,
                    snapshot.ResourceType,
                    snapshot.State?.Text,
                    snapshot.HealthStatus?.ToString(),
                    int.TryParse(Property(snapshot, PidProperty), out var pid) ? pid : null,
                    Property(snapshot, ContainerIdProperty),
                    [.. snapshot.Urls.Where(u => !u.IsInternal).Select(u => u.Url)]);
                _dirty = true;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        await writer.ConfigureAwait(false);
    }

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(WriteInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                if (!_dirty)
                {
                    continue;
                }
                _dirty = false;
                var resources = _resources.Values.OrderBy(r => r.Id, StringComparer.Ordinal).ToList();
                try
                {
                    await new AppHostState(Environment.ProcessId, _startedAt, DateTimeOffset.UtcNow, resources).WriteAsync(FilePath, ct).ConfigureAwait(false);
                }
                catch (IOException ex)
                {
                    logger.LogWarning("Could not write {File} for 'dive ps': {Reason}", FilePath, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            File.Delete(FilePath);
        }
        catch (IOException)
        {
            // dive ps tells a stale file by its dead AppHost pid.
        }
    }

    private static string? Property(CustomResourceSnapshot snapshot, string name) =>
        snapshot.Properties.FirstOrDefault(p => p.Name == name)?.Value?.ToString();
}
