using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>
/// The client address behind rate limits and the allow-list: the connection's, unless it comes from a proxy the operator
/// lists in <c>Dive:ForwardedHeaders:KnownProxies</c> (addresses or CIDR networks, comma-separated; none by default), in
/// which case ASP.NET Core's forwarded-headers middleware takes the last X-Forwarded-For hop. ASP.NET Core's own
/// default (loopback is a trusted proxy) is cleared: behind the orchestrator's loopback proxy it would let every caller
/// choose its address. With no proxy listed the middleware forwards nothing: empty lists would mean "any proxy" to
/// ASP.NET Core, and Aspire turns that mode on for project resources (ASPNETCORE_FORWARDEDHEADERS_ENABLED=true).
/// </summary>
public static class ForwardedHeadersSetup
{
    public static IServiceCollection AddDiveForwardedHeaders(this IServiceCollection services, IConfiguration config)
    {
        var (proxies, networks) = Parse(config["Dive:ForwardedHeaders:KnownProxies"]);
        return services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = proxies.Count + networks.Count > 0 ? ForwardedHeaders.XForwardedFor : ForwardedHeaders.None;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // the obsolete list still holds its own loopback default and is still honoured
            options.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            foreach (var proxy in proxies)
            {
                options.KnownProxies.Add(proxy);
            }
            foreach (var network in networks)
            {
                options.KnownIPNetworks.Add(network);
            }
        });
    }

    public static (IReadOnlyList<IPAddress> Proxies, IReadOnlyList<System.Net.IPNetwork> Networks) Parse(string? setting)
    {
        var proxies = new List<IPAddress>();
        var networks = new List<System.Net.IPNetwork>();
        foreach (var entry in (setting ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (entry.Contains('/') && System.Net.IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (ClientAddress.TryParseStrict(entry, out var address))
            {
                proxies.Add(address);
            }
            else
            {
                throw new InvalidOperationException($"Dive:ForwardedHeaders:KnownProxies: '{entry}' is not an IP address or CIDR network.");
            }
        }
        return (proxies, networks);
    }
}
