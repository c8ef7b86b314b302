using DiveAspire.AppHost;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Configuration problems (bad instance files, unknown codes, a missing redis-server) end the run with one clear
// line instead of a stack trace. Under the test harness the exception propagates to the test instead.
AppDomain.CurrentDomain.UnhandledException += (_, e) =>
{
    if (e.ExceptionObject is TopologyException problem)
    {
        Console.Error.WriteLine($"dive: {problem.Message}");
        Environment.Exit(1);
    }
};

// ./dive up's options work here too (aspire run -- --spokes rou): see DiveUpArguments.
var builder = DistributedApplication.CreateBuilder(DiveUpArguments.Translate(args));
// The configuration has read the environment: secrets given there leave it before anything starts a process that would inherit them.
InheritedSecrets.RemoveFromEnvironment();

// Aspire's ResourceNotificationService prints parameter values (our passwords) at Debug and Trace: never let it.
builder.Services.AddLogging(logging => logging.AddFilter("Aspire.Hosting.ApplicationModel.ResourceNotificationService", LogLevel.Information));

var options = DiveOptions.From(builder.Configuration, builder.AppHostDirectory);
// Publishing describes containers (Kubernetes): the graph is built as the container runtime runs it, with the single
// shared store; the publisher turns that into the HA Sentinel topology (always on in manifests, Kubernetes/SharedStoreHa.cs).
// ./dive up --join: a spoke AppHost joining a hub that runs elsewhere; --remote-spokes: a hub accepting such spokes.
var join = builder.ExecutionContext.IsPublishMode ? null : JoinSettings.From(builder.Configuration);
var topology = DiveTopology.Load(options.InstancesPath, options.Spokes, options.HighAvailability && !builder.ExecutionContext.IsPublishMode)
    .Joined(builder.ExecutionContext.IsPublishMode ? null : builder.Configuration["Dive:RemoteSpokes"], hubIsRemote: join is not null, options.InstancesPath);
if (builder.ExecutionContext.IsPublishMode)
{
    // Each nation deploys its overlay on its own cluster: spokes get the read-only store user and relay to the hub.
    topology = topology.WithSpokesElsewhere();
}
var runtime = builder.ExecutionContext.IsPublishMode
    ? DiveRuntime.Container
    : ContainerRuntimeProbe.Resolve(options.RequestedRuntime, builder.Configuration["ASPIRE_CONTAINER_RUNTIME"]);
builder.EnsurePrerequisites(topology, runtime, options);
builder.ApplyOrchestratorSettings(options);

builder.RequireDevelopmentKeyConsent(topology, runtime, joining: join is not null);
if (join is not null)
{
    builder.RequireHubSecrets(topology, runtime);
    builder.RequirePlaintextRelayConsent(join);
}
var blacklist = join is not null
    ? builder.AddJoinedSharedStore(topology, join)
    : topology.BlacklistHa is { } ha
        ? builder.AddDiveBlacklistHa(topology, ha, runtime, options)
        : builder.AddDiveRedis(topology.Blacklist, topology, runtime, options);
var trust = builder.AddFederationTrust(topology, runtime, options);
foreach (var instance in topology.LocalInstances)
{
    builder.AddDiveInstance(instance, topology, blacklist, trust, runtime, options);
}
builder.AddRemotePeers(topology, join);
builder.RelayRevocationsToHub(topology, join);
builder.AddDiveMonitoring(topology, runtime, options);
builder.WriteTlsClientsFile(options);
builder.AddKubernetesPublishing(topology, options);
// What runs, for `dive ps` and `dive health`: .dive/data/apphost-state.json (see docs/CLI-GUIDE.md).
builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<ResourceStateFile>(sp, options));

builder.Build().Run();
