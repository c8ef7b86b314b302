using System.Globalization;

namespace DiveAspire.Cli.Connections;

/// <summary>Parses <c>host:port</c> from <c>--endpoint</c> or a <c>DIVE_*_ENDPOINT_*</c> variable.</summary>
public static class EndpointOverride
{
    public static (string Host, int Port) Parse(string text, string source)
    {
        var value = text.Trim();
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1
            || !int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            throw new CliException($"{source} must be host:port such as 127.0.0.1:6379 (got '{value}').", ExitCodes.Usage);
        }
        return (value[..colon].Trim('[', ']'), port);
    }
}
