using Aspire.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>
/// Hub + ROU with ROU on two replicas, low limits so tests stay fast, one allow-listed IP, and a 3 s federated-search
/// circuit-breaker pause. Tests here stop and restart Redis and backends, so they get their own app.
/// </summary>
public sealed class RateLimitFixture : FederationFixture
{
    public const int ApiMax = 40;
    public const string AllowedIp = "198.51.100.77";

    public override string Spokes => "rou";

    protected override IEnumerable<string> ExtraArgs =>
    [
        "Dive:Replicas:rou=2",
        $"Dive:RateLimits:api:Max={ApiMax}",
        "Dive:RateLimits:api:Window=900",
        $"Dive:RateLimits:AllowList={AllowedIp}",
        "Dive:FederatedSearch:BreakSeconds=3",
    ];

    /// <summary>Each running replica's own URL (ASPNETCORE_URLS), bypassing DCP's proxy, which may send everything to one replica.</summary>
    public async Task<IReadOnlyList<Uri>> ReplicaUrlsAsync(string backend, int expected, TimeSpan timeout)
    {
        var notifications = App.Services.GetRequiredService<ResourceNotificationService>();
        var urls = new Dictionary<string, Uri>();
        using var cts = new CancellationTokenSource(timeout);
        await foreach (var e in notifications.WatchAsync(cts.Token))
        {
            if (e.Resource.Name == backend && e.Snapshot.State?.Text == KnownResourceStates.Running
                && e.Snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value is { } url)
            {
                urls[e.ResourceId] = new Uri(url.Split(';')[0]);
                if (urls.Count == expected)
                {
                    break;
                }
            }
        }
        return [.. urls.Values];
    }
}

[CollectionDefinition(Name)]
public sealed class RateLimitCollection : ICollectionFixture<RateLimitFixture>
{
    public const string Name = "rate-limit";
}
