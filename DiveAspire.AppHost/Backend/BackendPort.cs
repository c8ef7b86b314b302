using System.Net;
using System.Net.Sockets;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting;

/// <summary>
/// The host port of a backend (or of a Redis or Sentinel of the process runtime) is the port plan's. Under
/// <c>DcpPublisher:RandomizePorts=true</c> (the tests) the orchestrator randomizes only proxied endpoints, so a resource
/// without a proxy gets a free port picked here right before the start instead; otherwise two test runs would both
/// bind the port plan's port. The model keeps the plan's.
/// </summary>
public static class BackendPort
{
    public static bool Randomized(IConfiguration config) =>
        string.Equals(config["DcpPublisher:RandomizePorts"], "true", StringComparison.OrdinalIgnoreCase);

    public static IResourceBuilder<T> WithFreePortWhenRandomized<T>(this IResourceBuilder<T> backend, IDistributedApplicationBuilder builder, bool proxied)
        where T : IResourceWithEndpoints
    {
        if (!proxied && Randomized(builder.Configuration))
        {
            builder.Eventing.Subscribe<BeforeStartEvent>((_, _) =>
            {
                foreach (var endpoint in backend.Resource.Annotations.OfType<EndpointAnnotation>())
                {
                    endpoint.Port = FreeLoopbackPort();
                }
                return Task.CompletedTask;
            });
        }
        return backend;
    }

    // Ports handed out by this process: the kernel may return a port just released by an earlier pick, and two resources
    // of one app (or of two apps in one test process) then got the same port (seen: redis-usa and redis-blacklist).
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>A loopback port free now and never handed out before by this process.</summary>
    public static int FreeLoopbackPort()
    {
        lock (HandedOut)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
