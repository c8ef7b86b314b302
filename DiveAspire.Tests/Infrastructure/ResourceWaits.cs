using Microsoft.Extensions.DependencyInjection;

namespace DiveAspire.Tests.Infrastructure;

public static class ResourceWaits
{
    /// <summary>
    /// Healthy again after a stop/start/restart command. Unlike <see cref="FederationFixture.WaitHealthyAsync(string, TimeSpan)"/>
    /// it does not give up on the "Exited" state the resource still shows right after the command.
    /// </summary>
    public static async Task WaitHealthyAgainAsync(this FederationFixture fixture, string resource, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await fixture.App.Services.GetRequiredService<ResourceNotificationService>()
            .WaitForResourceHealthyAsync(resource, WaitBehavior.WaitOnResourceUnavailable, cts.Token);
    }
}
