using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DiveAspire.AppHost.Monitoring;

/// <summary>
/// Makes a container whose image can be had neither locally nor from its registry fail at once, with the reason in its
/// console log and in the AppHost's, instead of sitting in the orchestrator's pull retries (Grafana on a machine with
/// no registry and no stand-in image). A present image costs one <c>image inspect</c>; a missing one is pulled here,
/// exactly as the orchestrator would.
/// </summary>
internal static class ContainerImageCheck
{
    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(10);

    public static IResourceBuilder<ContainerResource> FailFastWithoutImage(this IResourceBuilder<ContainerResource> container)
    {
        container.ApplicationBuilder.Eventing.Subscribe<BeforeResourceStartedEvent>(container.Resource, async (e, ct) =>
        {
            var image = container.Resource.Annotations.OfType<ContainerImageAnnotation>().Last();
            var reference = $"{image.Registry}/{image.Image}:{image.Tag}";
            var runtime = container.ApplicationBuilder.Configuration["ASPIRE_CONTAINER_RUNTIME"] is { Length: > 0 } name ? name : "docker";
            if ((await RunAsync(runtime, ["image", "inspect", reference], TimeSpan.FromSeconds(30), ct).ConfigureAwait(false)).ExitCode == 0)
            {
                return;
            }
            var pull = await RunAsync(runtime, ["pull", reference], PullTimeout, ct).ConfigureAwait(false);
            if (pull.ExitCode == 0)
            {
                return;
            }
            var reason = $"image {reference} is not on this machine and '{runtime} pull' failed: {pull.LastLine}";
            e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(container.Resource).LogError("{Reason}", reason);
            e.Services.GetRequiredService<ILogger<DistributedApplication>>().LogError("{Resource} cannot start: {Reason}", container.Resource.Name, reason);
            throw new DistributedApplicationException($"{container.Resource.Name} cannot start: {reason}");
        });
        return container;
    }

    /// <summary>Runs the container runtime's CLI; its exit code and the last line it printed.</summary>
    internal static async Task<(int ExitCode, string LastLine)> RunAsync(string runtime, string[] arguments, TimeSpan timeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo(runtime) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"timed out after {timeout.TotalSeconds:F0} s");
            }
            var output = (await stderr.ConfigureAwait(false)) + (await stdout.ConfigureAwait(false));
            var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit code {process.ExitCode}";
            return (process.ExitCode, last);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, $"{runtime} cannot be run ({ex.Message})");
        }
    }
}
