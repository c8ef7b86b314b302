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

var builder = DistributedApplication.CreateBuilder(args);

// Aspire's ResourceNotificationService prints parameter values (our passwords) at Debug and Trace: never let it.
builder.Services.AddLogging(logging => logging.AddFilter("Aspire.Hosting.ApplicationModel.ResourceNotificationService", LogLevel.Information));

var options = DiveOptions.From(builder.Configuration, builder.AppHostDirectory);
var topology = DiveTopology.Load(options.InstancesPath, options.Spokes, options.HighAvailability);
var runtime = ContainerRuntimeProbe.Resolve(options.RequestedRuntime, builder.Configuration["ASPIRE_CONTAINER_RUNTIME"]);
builder.EnsurePrerequisites(topology, runtime, options);
builder.ApplyOrchestratorSettings(options);

var blacklist = topology.BlacklistHa is { } ha
    ? builder.AddDiveBlacklistHa(topology, ha, runtime, options)
    : builder.AddDiveRedis(topology.Blacklist, topology, runtime, options);
var trust = builder.AddFederationTrust(topology, runtime, options);
foreach (var instance in topology.Instances)
{
    builder.AddDiveInstance(instance, topology, blacklist, trust, runtime, options);
}
builder.AddDiveMonitoring(topology, runtime, options);
// What runs, for `dive ps` and `dive health`: .dive/data/apphost-state.json (see docs/CLI-GUIDE.md).
builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<ResourceStateFile>(sp, options));

builder.Build().Run();
