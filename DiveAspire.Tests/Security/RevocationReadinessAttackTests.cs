using System.Net;
using Aspire.Hosting;
using DiveAspire.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Security;

/// <summary>
/// A backend restarted while the shared store is down has an empty revocation cache: it must start, say it is not
/// ready and refuse tokens (503) until it has synchronised once, then enforce revocations made before the outage.
/// </summary>
[Collection(RevocationSecurityCollection.Name)]
[Trait("Category", "Security")]
public sealed class RevocationReadinessAttackTests(RevocationSecurityFixture federation)
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_backend_restarted_during_a_store_outage_refuses_tokens_until_its_first_sync_then_enforces_older_revocations()
    {
        var revoked = federation.Mint("usa", $"sec-ready-{Guid.NewGuid():N}"[..24]);
        using (var usa = federation.Backend("usa", revoked))
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/logout")).Status);
        }
        await EventuallyAsync(async () => await WhoAmIAsync(federation, "rou", revoked) == HttpStatusCode.Unauthorized, "logout reached ROU");
        var unknown = federation.Mint("usa", $"sec-ready-{Guid.NewGuid():N}"[..24]);

        await federation.ExecuteCommandAsync("redis-blacklist", KnownResourceCommands.StopCommand, CommandTimeout);
        try
        {
            await RestartRunningAsync("backend-rou");
            // It runs (live), is not ready, and refuses every token, the revoked one included, rather than guess.
            await EventuallyAsync(async () =>
            {
                using var http = federation.Backend("rou");
                try
                {
                    return (await http.GetAsync("/health/live")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, "ROU answers /health/live while the store is down", TimeSpan.FromSeconds(60), pollMs: 250);
            using (var http = federation.Backend("rou"))
            {
                var (readyStatus, ready) = await GetAsync(http, "/health/ready");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, readyStatus);
                Assert.Equal("unhealthy", ready.GetProperty("status").GetString());
            }
            foreach (var token in new[] { revoked, unknown })
            {
                using var http = federation.Backend("rou", token);
                var (status, body) = await GetAsync(http, "/api/auth/whoami");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                Assert.Equal("Service Unavailable", body.GetProperty("error").GetString());
            }
        }
        finally
        {
            await federation.StartAgainAsync("redis-blacklist", KnownResourceCommands.StartCommand, CommandTimeout);
        }

        // Ready by itself once the store is back, enforcing the revocation made before the outage.
        await federation.WaitHealthyAsync("backend-rou", TimeSpan.FromSeconds(90));
        using (var http = federation.Backend("rou"))
        {
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/health/ready")).Status);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIAsync(federation, "rou", revoked));
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(federation, "rou", unknown));
    }

    /// <summary>Restarts a resource and waits until a new process runs (not until it is healthy: it must not be yet).</summary>
    private async Task RestartRunningAsync(string resource)
    {
        var notifications = federation.App.Services.GetRequiredService<ResourceNotificationService>();
        var previous = notifications.TryGetCurrentState(resource, out var current) ? Pid(current.Snapshot) : null;
        await federation.ExecuteCommandAsync(resource, KnownResourceCommands.RestartCommand, CommandTimeout);
        using var cts = new CancellationTokenSource(CommandTimeout);
        try
        {
            await notifications.WaitForResourceAsync(resource, e =>
                e.Snapshot.State?.Text == KnownResourceStates.Running && Pid(e.Snapshot) is { } pid && pid != previous, cts.Token);
        }
        catch (OperationCanceledException ex)
        {
            throw new InvalidOperationException($"{resource} did not run again while the store was down. Its last log lines:\n{federation.RecentLogs(resource)}", ex);
        }
    }

    private static string? Pid(CustomResourceSnapshot snapshot) =>
        snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value?.ToString();
}
