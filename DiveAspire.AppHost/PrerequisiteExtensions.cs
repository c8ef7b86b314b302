using DiveAspire.AppHost;
using DiveAspire.Topology;

namespace Aspire.Hosting;

public static class PrerequisiteExtensions
{
    /// <summary>Fails fast, before anything starts, on a port plan collision (monitoring ports included) or a missing redis-server binary.</summary>
    public static void EnsurePrerequisites(this IDistributedApplicationBuilder builder, DiveTopology topology, DiveRuntime runtime, DiveOptions options)
    {
        var container = runtime == DiveRuntime.Container;
        PortPlan.EnsureNoCollisions(PortPlan.Allocate(topology,
            new PortPlanOptions(Monitoring: options.Monitoring, Grafana: options.Monitoring && container, Keycloak: container && options.Keycloak,
                HighAvailability: topology.BlacklistHa is not null)));

        if (runtime == DiveRuntime.Process && FindExecutable(options.RedisServerPath) is null)
        {
            throw new TopologyException(
                $"'{options.RedisServerPath}' was not found, and the process runtime needs it. " +
                "Install it with: sudo apt-get update && sudo apt-get install -y redis-server (./dive up does this for you), " +
                "or set Dive:RedisServer to its path.");
        }
        if (runtime == DiveRuntime.Process && topology.BlacklistHa is not null && FindExecutable(options.RedisSentinelPath) is null)
        {
            throw new TopologyException(
                $"'{options.RedisSentinelPath}' was not found, and the highly available shared store (--ha) needs it in the process runtime. " +
                "Install it with: sudo apt-get update && sudo apt-get install -y redis-sentinel (./dive up does this for you), " +
                "or set Dive:RedisSentinel to its path.");
        }
    }

    public static string? FindExecutable(string name)
    {
        if (Path.IsPathRooted(name) || name.Contains(Path.DirectorySeparatorChar))
        {
            return File.Exists(name) ? Path.GetFullPath(name) : null;
        }
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }
}
