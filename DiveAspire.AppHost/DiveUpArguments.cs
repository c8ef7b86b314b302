using DiveAspire.Topology;

namespace DiveAspire.AppHost;

/// <summary>
/// The options of <c>./dive up</c> (<c>--spokes rou,bel</c>, <c>--runtime process</c>, <c>--no-monitoring</c>,
/// <c>--replicas 2</c>) given straight to the AppHost, as <c>aspire run -- --spokes rou</c> or
/// <c>dotnet run --project DiveAspire.AppHost -- --spokes rou</c> do: each becomes the configuration key that
/// <c>./dive up</c> sets (<c>Dive:Spokes=rou</c>, ...). Every other argument is left to Aspire's configuration.
/// </summary>
public static class DiveUpArguments
{
    private static readonly Dictionary<string, string> ValueOptions = new(StringComparer.Ordinal)
    {
        ["--spokes"] = "Dive:Spokes",
        ["--runtime"] = "Dive:Runtime",
        ["--replicas"] = "Dive:Replicas",
        ["--join"] = "Dive:Join:Hub",
        ["--remote-spokes"] = "Dive:RemoteSpokes",
    };

    public static string[] Translate(string[] args)
    {
        var result = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--no-monitoring")
            {
                result.Add("Dive:Monitoring=false");
                continue;
            }
            var (name, inlineValue) = arg.IndexOf('=') is var eq and > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
            if (!ValueOptions.TryGetValue(name, out var key))
            {
                result.Add(arg);
                continue;
            }
            var value = inlineValue ?? (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null);
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new TopologyException($"{name} needs a value (--spokes rou,bel | --runtime auto|container|process | --replicas N | --join http://hub-host:4000 | --remote-spokes rou,bel).");
            }
            result.Add($"{key}={value}");
        }
        return [.. result];
    }
}
