using System.Net;
using System.Net.Sockets;

namespace DiveAspire.Tests.Cli;

public static class FreePort
{
    /// <summary>A loopback port nothing listens on right now (the OS's pick, released immediately).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
