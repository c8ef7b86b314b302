using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting;

/// <summary>
/// Switches that exist for <c>./dive bench</c>, which runs one configuration per spoke to compare them in the same run:
/// <c>Dive:Gc:&lt;code&gt;=server|workstation</c> (the backend's garbage collector; default: workstation, as its project
/// file says), <c>Dive:Otlp:&lt;code&gt;=false</c> (no telemetry export to the dashboard) and
/// <c>Dive:DotnetEnv:&lt;code&gt;:&lt;Knob&gt;=value</c> (the runtime knob <c>DOTNET_&lt;Knob&gt;</c>, e.g. <c>GCgen0size</c>, for the
/// memory comparison of <c>./dive bench --memory</c>).
/// </summary>
public static partial class BackendBenchSwitches
{
    public static IResourceBuilder<T> WithBenchSwitches<T>(this IResourceBuilder<T> backend, IConfiguration config, InstanceDefinition instance)
        where T : IResourceWithEnvironment
    {
        switch (config[$"Dive:Gc:{instance.LowerCode}"]?.Trim().ToLowerInvariant())
        {
            case null or "":
                break;
            case "server":
                backend.WithEnvironment("DOTNET_gcServer", "1");
                break;
            case "workstation":
                backend.WithEnvironment("DOTNET_gcServer", "0");
                break;
            case var other:
                throw new TopologyException($"Dive:Gc:{instance.LowerCode} must be server or workstation (got '{other}').");
        }
        switch (config[$"Dive:Otlp:{instance.LowerCode}"]?.Trim().ToLowerInvariant())
        {
            case null or "" or "true":
                break;
            case "false":
                // Applied after Aspire's own OTLP settings: an empty endpoint makes ServiceDefaults add no exporter.
                backend.WithEnvironment(context => context.EnvironmentVariables["OTEL_EXPORTER_OTLP_ENDPOINT"] = "");
                break;
            case var other:
                throw new TopologyException($"Dive:Otlp:{instance.LowerCode} must be true or false (got '{other}').");
        }
        foreach (var knob in config.GetSection($"Dive:DotnetEnv:{instance.LowerCode}").GetChildren())
        {
            if (!KnobName().IsMatch(knob.Key) || knob.Value is null)
            {
                throw new TopologyException($"Dive:DotnetEnv:{instance.LowerCode}:{knob.Key} must name a GC or tiering knob (GC..., Tiered..., TC_...: letters, digits, _) and have a value.");
            }
            backend.WithEnvironment($"DOTNET_{knob.Key}", knob.Value);
        }
        return backend;
    }

    // Memory and JIT knobs only: DOTNET_STARTUP_HOOKS, DOTNET_ROOT, EnableDiagnostics... would run code or open doors.
    [System.Text.RegularExpressions.GeneratedRegex("^(?:[Gg][Cc]|Tiered|TC_)[A-Za-z0-9_]*$")]
    private static partial System.Text.RegularExpressions.Regex KnobName();
}
