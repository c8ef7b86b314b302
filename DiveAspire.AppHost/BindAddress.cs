using System.Net;

namespace DiveAspire.AppHost;

/// <summary>
/// Where this AppHost's servers listen for other machines (<c>Dive:Redis:BindAddress</c>, <c>Dive:Backend:BindAddress</c>):
/// loopback by default. A non-loopback address is set as the endpoint's target host, so the orchestrator's proxy (or the
/// server itself when unproxied) listens there as well.
/// </summary>
public static class BindAddress
{
    public static bool IsLoopback(string address) => IPAddress.IsLoopback(IPAddress.Parse(address));

    public static bool IsEveryInterface(string address) => IPAddress.Parse(address) is var ip && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any));

    /// <summary>redis-server's <c>--bind</c> addresses: 127.0.0.1 always (the AppHost, the CLI and the exporter connect there), plus the configured one.</summary>
    public static IReadOnlyList<string> RedisBindList(string address) =>
        IsLoopback(address) ? [DiveOptions.Loopback]
        : IsEveryInterface(address) ? [address]
        : [DiveOptions.Loopback, address];

    /// <summary>The endpoint listens on <paramref name="address"/> too when it is not loopback.</summary>
    public static IResourceBuilder<T> WithBindAddress<T>(this IResourceBuilder<T> resource, string endpointName, string address)
        where T : IResourceWithEndpoints
    {
        if (!IsLoopback(address))
        {
            resource.Resource.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == endpointName).TargetHost = address;
        }
        return resource;
    }
}
