using System.Net;
using System.Net.Sockets;

namespace DiveAspire.Cli.Operations;

/// <summary>Strict IP validation: IPAddress.TryParse alone accepts "1" or "10.1" as IPv4 shorthand.</summary>
public static class IpAddressText
{
    public static bool TryNormalize(string? text, out string normalized)
    {
        normalized = "";
        var value = text?.Trim() ?? "";
        if (!IPAddress.TryParse(value, out var address))
        {
            return false;
        }
        var valid = address.AddressFamily switch
        {
            AddressFamily.InterNetwork => value.Split('.').Length == 4,
            AddressFamily.InterNetworkV6 => value.Contains(':', StringComparison.Ordinal) && !value.Contains('%', StringComparison.Ordinal),
            _ => false,
        };
        if (valid)
        {
            normalized = address.ToString();
        }
        return valid;
    }
}
