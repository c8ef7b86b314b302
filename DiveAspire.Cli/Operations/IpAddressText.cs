using DiveAspire.Topology;

namespace DiveAspire.Cli.Operations;

/// <summary>An operator's IP argument, parsed by the same rules as the backend (<see cref="StrictIpAddress"/>).</summary>
public static class IpAddressText
{
    public static bool TryNormalize(string? text, out string normalized)
    {
        var valid = StrictIpAddress.TryParse(text, out var address);
        normalized = valid ? address.ToString() : "";
        return valid;
    }
}
