using Aspire.Hosting.Pipelines;
using DiveAspire.AppHost;
using DiveAspire.AppHost.Kubernetes;
using DiveAspire.AppHost.Monitoring;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Aspire 13.6's publish pipeline is marked experimental; it is the documented way for a custom publisher.
#pragma warning disable ASPIREPIPELINES001, ASPIREPIPELINES004

namespace Aspire.Hosting;

public static class KubernetesPublishing
{
    public const string StepName = "publish-kubernetes";

    /// <summary>
    /// <c>./dive publish kubernetes --output DIR</c> runs this AppHost with <c>--operation publish --step publish-kubernetes</c>:
    /// the graph is built exactly as for a run (container runtime, monitoring on) and this pipeline step turns the
    /// built DistributedApplicationModel into kustomize manifests. There is no second model of the deployment.
    /// </summary>
    public static void AddKubernetesPublishing(this IDistributedApplicationBuilder builder, DiveTopology topology, DiveOptions options)
    {
        if (!builder.ExecutionContext.IsPublishMode)
        {
            return;
        }
        // The graph has the single shared store; the manifests always have the HA topology (SharedStoreHa), whose extra
        // users (replication, sentinel) get their secret parameters here, named and generated like every other.
        var published = new DiveTopology(topology.Hub, topology.Spokes)
        {
            BlacklistHa = topology.BlacklistHa ?? BlacklistHighAvailability.Default,
            SpokesElsewhere = topology.SpokesElsewhere,
        };
        foreach (var user in RedisAcl.Users(published.Blacklist, published)
                     .Where(u => !builder.Resources.OfType<ParameterResource>().Any(p => p.Name == u.PasswordParameterName)))
        {
            builder.AddParameter(user.PasswordParameterName, new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);
        }
        var settings = PublishSettings.From(builder.Configuration, published);
        var monitoring = new MonitoringInputs(MonitoringSettings.From(builder.Configuration), MonitoringPaths.For(options, builder.AppHostDirectory));
        builder.Pipeline.AddStep(StepName, async context =>
        {
            var output = context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
            try
            {
                var graph = SharedStoreHa.Apply(await PublishedGraph.ReadAsync(context.Model, published, settings, context.CancellationToken).ConfigureAwait(false));
                var written = await KustomizeWriter.WriteAsync(graph, settings, monitoring, output, context.CancellationToken).ConfigureAwait(false);
                context.Logger.LogInformation("Kubernetes manifests written to {Output}: base/ and overlays/{Overlays}", output, string.Join(",", written));
            }
            catch (Exception problem) when (problem is not OperationCanceledException)
            {
                // Aspire logs a failed step and stops, but the process would still exit 0: ./dive publish and CI must see it.
                Environment.ExitCode = 1;
                throw;
            }
        }, requiredBy: WellKnownPipelineSteps.Publish);
    }
}
