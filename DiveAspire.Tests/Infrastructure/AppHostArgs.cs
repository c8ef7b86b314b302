using DiveAspire.Topology;

namespace DiveAspire.Tests.Infrastructure;

public static class AppHostArgs
{
    public static string InstancesDirectory => DiveTopology.FindInstancesDirectory(AppContext.BaseDirectory);

    /// <summary>The switch of the highly available shared store (its replication and Sentinel users then get test secrets too).</summary>
    public const string HighAvailability = $"{BlacklistHighAvailability.ConfigurationKey}=true";

    /// <summary>AppHost arguments for a test run: given runtime and spokes, random host ports, a private data directory.</summary>
    public static string[] For(string runtime, string spokes, string dataPath, TestSecrets secrets, params string[] extra)
    {
        var topology = DiveTopology.Load(InstancesDirectory, spokes, extra.Contains(HighAvailability));
        return
        [
            $"Dive:Runtime={runtime}",
            $"Dive:Spokes={spokes}",
            $"Dive:DataPath={dataPath}",
            "Dive:Monitoring=false",
            "DcpPublisher:RandomizePorts=true",
            .. secrets.AsArguments(topology),
            .. extra,
        ];
    }
}
