using System.Net;
using System.Net.Sockets;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting;

/// <summary>
/// The host port of a backend: the port plan's. Under <c>DcpPublisher:RandomizePorts=true</c> (the tests) the orchestrator
/// randomizes only proxied endpoints, so a backend without a proxy gets a free port picked here instead; otherwise two
/// test runs would both bind the port plan's port.
/// </summary>
public static class BackendPort
{
    public static int For(InstanceDefinition instance, bool proxied, IConfiguration config) =>
        !proxied && string.Equals(config["DcpPublisher:RandomizePorts"], "true", StringComparison.OrdinalIgnoreCase)
            ? FreeLoopbackPort()
            : PortPlan.Backend(instance.Country);

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
