using System.Net;
using System.Net.Sockets;

namespace DiveAspire.Topology;

/// <summary>
/// The one IP parser of the backend and the CLI. <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> alone accepts
/// inet_aton forms: "1" and "10.1" (shorthand), "0177.0.0.1" (octal), "0x7f.0.0.1" (hex), "10.0.0.010" (octal 8).
/// Here IPv4 is only the canonical dotted quad (no leading zeros), IPv6 any standard form without a zone ("%eth0").
/// </summary>
public static class StrictIpAddress
{
    public const string Expected = "IPv4 as four decimal numbers 0-255 without leading zeros (203.0.113.7) or IPv6 (2001:db8::7)";

    public static bool TryParse(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrEmpty(text) || !IPAddress.TryParse(text, out var parsed))
        {
            return false;
        }
        var valid = parsed.AddressFamily switch
        {
            AddressFamily.InterNetwork => parsed.ToString() == text,
            AddressFamily.InterNetworkV6 => text.Contains(':', StringComparison.Ordinal) && !text.Contains('%', StringComparison.Ordinal)
                && text.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.'),
            _ => false,
        };
        if (valid)
        {
            address = parsed.IsIPv4MappedToIPv6 ? parsed.MapToIPv4() : parsed;
        }
        return valid;
    }
}
