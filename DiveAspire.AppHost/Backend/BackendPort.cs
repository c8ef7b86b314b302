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

    // Picked below the kernel's ephemeral range: a port picked inside it and released may become the source port of any
    // outgoing connection before its resource binds it (review S4). Below the range only a listener can take it.
    private static readonly (int Low, int High)? PickRange = BelowEphemeralRange(File.Exists(EphemeralRangeFile) ? File.ReadAllText(EphemeralRangeFile) : null);
    private const string EphemeralRangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
    // Above the port plan's fixed ports (Sentinels 26379-26381, MongoDB from 27017): a pick never takes a port the plan names.
    private const int LowestPick = 28000;

    /// <summary>[28000, the ephemeral range's first port), or null (the kernel's own pick) when that leaves too few ports.</summary>
    public static (int Low, int High)? BelowEphemeralRange(string? ipLocalPortRange) =>
        ipLocalPortRange?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) is [var first, ..] && int.TryParse(first, out var low) && low - LowestPick >= 2000
            ? (LowestPick, low)
            : null;

    /// <summary>A loopback port free now and never handed out before by this process.</summary>
    public static int FreeLoopbackPort()
    {
        lock (HandedOut)
        {
            while (true)
            {
                // Once most of the range is handed out, the kernel's pick again (a test run hands out a few thousand at most).
                var candidate = PickRange is { } range && HandedOut.Count < (range.High - range.Low) * 3 / 4 ? Random.Shared.Next(range.Low, range.High) : 0;
                using var listener = new TcpListener(IPAddress.Loopback, candidate);
                try
                {
                    listener.Start();
                }
                catch (SocketException)
                {
                    continue; // taken by a listener of another process
                }
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
