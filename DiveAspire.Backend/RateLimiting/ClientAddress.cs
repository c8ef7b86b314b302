using System.Net;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>Who a request counts against: <c>{uniqueID}:{ip}</c> when authenticated, else the IP.</summary>
public static class ClientAddress
{
    public static IPAddress Of(HttpContext http)
    {
        var ip = http.Connection.RemoteIpAddress ?? IPAddress.None;
        return ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;
    }

    public static string Key(HttpContext http)
    {
        var ip = Of(http).ToString();
        var user = http.User.Identity?.IsAuthenticated == true ? Auth.DiveClaims.UserId(http.User) : null;
        return string.IsNullOrEmpty(user) ? ip : $"{user}:{ip}";
    }

    /// <summary>Strict parsing shared with the CLI (<see cref="DiveAspire.Topology.StrictIpAddress"/>): no shorthand, octal or hex IPv4; canonical result.</summary>
    public static bool TryParseStrict(string? text, out IPAddress address) => DiveAspire.Topology.StrictIpAddress.TryParse(text, out address);
}
