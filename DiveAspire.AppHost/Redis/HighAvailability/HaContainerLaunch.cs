using DiveAspire.AppHost.Monitoring;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

/// <summary>
/// How the HA shared store runs in the container runtime: each node and Sentinel is the Redis image run by the container
/// runtime's own CLI on the host's network (<c>podman run --rm --network host ...</c>), as an executable resource.
/// <para>Why not a container resource: a Sentinel hands out the address a node announces, and that one address must work
/// for the backends (host processes) and for the other nodes and Sentinels alike. On the host's network every node
/// listens on 127.0.0.1 and announces 127.0.0.1 and its host port, exactly as in the process runtime. Aspire 13.6 cannot
/// run a container resource there: the orchestrator always creates it with <c>--network &lt;Aspire's network&gt;</c>, and
/// Podman refuses a second <c>--network host</c> ("cannot set multiple networks without bridge network mode").</para>
/// <para>The data directory on the host (0700: the ACL file, the configuration with the replication or Sentinel
/// password, 0600) is mounted at the same path, so every path in the arguments is the same as in the process runtime;
/// data nodes keep their data in a named volume at /data. No password is in any argument.</para>
/// </summary>
public sealed class HaContainerLaunch(string runtime, string volumePrefix, IConfiguration configuration)
{
    /// <summary>The image Aspire.Hosting.Redis 13.6.5 runs every other Redis from (a model test checks they agree).</summary>
    public const string Image = "docker.io/library/redis:8.6";

    public const string DataDirectory = "/data";

    /// <summary>Labels of every node and Sentinel container this AppHost starts: which resource, of which volume prefix.</summary>
    public const string ResourceLabel = "io.diveaspire.ha-resource";
    public const string VolumePrefixLabel = "io.diveaspire.volume-prefix";

    /// <summary>The container runtime's CLI (<c>ASPIRE_CONTAINER_RUNTIME</c>, docker by default).</summary>
    public string Command => runtime;

    /// <summary>The container's name: per volume prefix, so test runs never meet a developer's containers.</summary>
    public string ContainerName(string resourceName) => ContainerName(volumePrefix, resourceName);

    public static string ContainerName(string volumePrefix, string resourceName) => $"{volumePrefix}-{resourceName}";

    /// <summary>
    /// <c>run ... IMAGE</c>, after which come redis-server's own arguments. <c>--rm</c> and the attached run tie the
    /// container to the executable: stopping the resource stops the container (the CLI forwards the signal), a container
    /// that dies ends the resource.
    /// </summary>
    public IReadOnlyList<string> RunArguments(string resourceName, string hostDirectory, string? volume)
    {
        List<string> args =
        [
            "run", "--rm", "--name", ContainerName(resourceName), "--network", "host",
            "--label", $"{ResourceLabel}={resourceName}", "--label", $"{VolumePrefixLabel}={volumePrefix}",
            // On the host's network a Redis (its Lua runs any backend's EVAL) must not sniff or forge loopback traffic
            // (NET_RAW) nor gain privileges: every capability dropped but reading the AppHost's private files.
            "--cap-drop", "ALL", "--cap-add", "DAC_OVERRIDE", "--security-opt", "no-new-privileges",
            "--volume", $"{hostDirectory}:{hostDirectory}",
        ];
        if (volume is not null)
        {
            args.AddRange(["--volume", $"{volume}:{DataDirectory}"]);
        }
        // The official image's entrypoint would switch to its redis user, which cannot read the root-owned 0600 files.
        args.AddRange(["--entrypoint", "redis-server", Image]);
        return args;
    }

    /// <summary>
    /// The addresses a node or Sentinel listens on, its own port on each (no orchestrator proxy in front: a proxy that
    /// listens on every interface for the exporter did not always forward to a container started again). 127.0.0.1 for
    /// the backends, the CLI, the other nodes and Sentinels; and, optional ("-": Redis starts without it when it is
    /// gone), the address the containers reach the host at (<c>AppHost:ContainerHostname</c>, the machine's primary
    /// address under Podman), for the exporter container. Read when the resource starts: monitoring sets it later.
    /// </summary>
    public IReadOnlyList<string> BindAddresses() =>
        configuration[ContainerHostAccess.ContainerHostnameSetting] is { } host && IPAddress.TryParse(host, out var address) && !IPAddress.IsLoopback(address)
            ? [DataNodeReplication.Host, "-" + address]
            : [DataNodeReplication.Host];

    /// <summary>
    /// A container of this name left by an earlier run (its AppHost died) would hold the port: removed first, but only
    /// when it carries the labels this AppHost sets (<see cref="ResourceLabel"/>, <see cref="VolumePrefixLabel"/>): a
    /// container of someone else that happens to have the name is left alone (the resource then fails to start on the
    /// name, and says why).
    /// </summary>
    public async Task RemoveLeftoverAsync(string resourceName, ILogger logger, CancellationToken ct)
    {
        var name = ContainerName(resourceName);
        var format = $"{{{{index .Config.Labels \"{VolumePrefixLabel}\"}}}}|{{{{index .Config.Labels \"{ResourceLabel}\"}}}}";
        var inspect = await ContainerImageCheck.RunAsync(runtime, ["container", "inspect", "--format", format, name], TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        if (inspect.ExitCode != 0)
        {
            return;
        }
        if (inspect.LastLine.Trim() != $"{volumePrefix}|{resourceName}")
        {
            logger.LogWarning("A container named {Container} exists but was not started by a DiveAspire AppHost for {Resource} (no label {Label}={Prefix}): left alone", name, resourceName, VolumePrefixLabel, volumePrefix);
            return;
        }
        logger.LogWarning("Removing the container {Container} left by an earlier run", name);
        await ContainerImageCheck.RunAsync(runtime, ["rm", "--force", name], TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
    }
}
