using System.Net;
using System.Net.Sockets;

namespace DiveAspire.AppHost.Monitoring;

/// <summary>
/// How the monitoring containers reach the backends, which are host processes (container runtime only).
/// <para>Aspire 13 does it through its "container tunnel", a helper container DCP builds and starts. Under Podman 4.3
/// (Debian 12) DCP never sees that container join the network: it stays "Starting" (with no registry it cannot even
/// build it), and Prometheus, which needs the backends' addresses before it is created, waits for ever with no log
/// line. DIVE therefore turns the tunnel off: containers reach a backend at the runtime's host name and the backend's
/// host port, which then listens on every interface, not on loopback only. The backends still refuse every request
/// without a valid token (the original docker-compose deployment published them on all interfaces too).</para>
/// <para>Podman's host name (host.containers.internal) is the gateway of Aspire's container network, a bridge that
/// appears only after DCP bound its listeners, so nothing listens there. Under Podman the containers use the host's own
/// primary address instead, which DCP binds at start and a container reaches through its gateway.</para>
/// <para>The HA shared store's nodes and Sentinels (container runtime with --ha) run on the host's network and listen on
/// that address too (<see cref="HaContainerLaunch.BindAddresses"/>), so that the exporter container can scrape them; each
/// still refuses anyone without an ACL password.</para>
/// </summary>
internal static class ContainerHostAccess
{
    public const string TunnelSetting = "ASPIRE_ENABLE_CONTAINER_TUNNEL";
    public const string ContainerHostnameSetting = "AppHost:ContainerHostname";

    public static void ReachBackendsFromContainers(this IDistributedApplicationBuilder builder, MonitoringTargets targets)
    {
        builder.Configuration[TunnelSetting] = "false";
        if (string.Equals(builder.Configuration["ASPIRE_CONTAINER_RUNTIME"], "podman", StringComparison.OrdinalIgnoreCase)
            && builder.Configuration[ContainerHostnameSetting] is null
            && PrimaryAddress() is { } address)
        {
            builder.Configuration[ContainerHostnameSetting] = address.ToString();
        }
        foreach (var (_, endpoint) in targets.BackendEndpoints)
        {
            endpoint.Resource.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == endpoint.EndpointName).TargetHost = "0.0.0.0";
        }
    }

    /// <summary>The address this machine sends from on its default route (a UDP "connect" sends nothing); null when offline.</summary>
    private static IPAddress? PrimaryAddress()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(IPAddress.Parse("203.0.113.1"), 9); // TEST-NET-3: never routed to anyone
            return (socket.LocalEndPoint as IPEndPoint)?.Address is { } local && !IPAddress.IsLoopback(local) ? local : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
