using System.Net;
using System.Net.Sockets;

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

    /// <summary>
    /// Parses an IPv4 address only in its dotted-quad form ("1" or "10.1" are valid for IPAddress.TryParse, not for an operator)
    /// or any IPv6 address; the result is canonical.
    /// </summary>
    public static bool TryParseStrict(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrWhiteSpace(text) || !IPAddress.TryParse(text, out var parsed))
        {
            return false;
        }
        if (parsed.AddressFamily == AddressFamily.InterNetwork && parsed.ToString() != text)
        {
            return false;
        }
        address = parsed.IsIPv4MappedToIPv6 ? parsed.MapToIPv4() : parsed;
        return true;
    }
}
