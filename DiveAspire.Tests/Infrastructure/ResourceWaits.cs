using Microsoft.Extensions.DependencyInjection;

namespace DiveAspire.Tests.Infrastructure;

public static class ResourceLogs
{
    /// <summary>How many lines of a resource's console log so far contain <paramref name="text"/>.</summary>
    public static async Task<int> CountAsync(FederationFixture fixture, string resource, string text)
    {
        // Console logs are kept per running instance (e.g. backend-usa-abcd1234), not per resource name.
        var ids = new HashSet<string>();
        using (var find = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            try
            {
                await foreach (var e in fixture.App.Services.GetRequiredService<ResourceNotificationService>().WatchAsync(find.Token))
                {
                    if (e.Resource.Name == resource)
                    {
                        ids.Add(e.ResourceId);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Current states replayed.
            }
        }
        var loggers = fixture.App.Services.GetRequiredService<ResourceLoggerService>();
        var count = 0;
        foreach (var id in ids)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            try
            {
                await foreach (var batch in loggers.WatchAsync(id).WithCancellation(cts.Token))
                {
                    count += batch.Count(line => line.Content.Contains(text, StringComparison.Ordinal));
                }
            }
            catch (OperationCanceledException)
            {
                // The backlog has been read; the watch would wait for new lines forever.
            }
        }
        return count;
    }
}
