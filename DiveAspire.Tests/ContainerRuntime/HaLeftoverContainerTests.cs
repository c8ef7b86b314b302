using Aspire.Hosting;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.Tests.ContainerRuntime;

/// <summary>
/// The HA store's containers (container runtime) are started by name; before a start the AppHost removes a leftover of
/// an earlier run that would hold the name and port. It must only ever remove a container it started itself (by its
/// labels), never another one that happens to have the name. Real Podman, containers created and removed here.
/// </summary>
public sealed class HaLeftoverContainerTests
{
    private const string Resource = "redis-blacklist-replica-1";

    [SkippableFact]
    public async Task Only_a_container_with_the_AppHosts_labels_is_removed_as_a_leftover_never_a_foreign_one_of_the_same_name()
    {
        Skip.IfNot(PodmanEnvironment.Ready, PodmanEnvironment.Reason);
        var launch = new HaContainerLaunch("podman", $"dive-leftover-{Guid.NewGuid():N}"[..22], new ConfigurationBuilder().Build());
        var name = launch.ContainerName(Resource);
        using var environment = new EnvironmentScope()
            .Set("CONTAINERS_CONF", PodmanEnvironment.Variables["CONTAINERS_CONF"])
            .Set("CONTAINERS_STORAGE_CONF", PodmanEnvironment.Variables["CONTAINERS_STORAGE_CONF"]);
        var logs = new LogCapture();
        var logger = logs.CreateLogger("test");
        try
        {
            // Someone else's container that happens to have the name (no DiveAspire label).
            Created(PodmanEnvironment.Podman($"create --name {name} --label io.example.owner=someone-else {PodmanEnvironment.RedisImage}"));
            await launch.RemoveLeftoverAsync(Resource, logger, CancellationToken.None);
            Assert.True(Exists(name), $"the foreign container {name} was removed");
            Assert.Contains(logs.Lines, l => l.Message.Contains("left alone", StringComparison.Ordinal));
            PodmanEnvironment.Podman($"rm --force {name}");

            // A leftover of this AppHost: created with the labels its run arguments carry.
            var args = launch.RunArguments(Resource, Path.GetTempPath(), volume: null);
            var labels = string.Join(' ', args.Select((a, i) => (a, i)).Where(x => x.a == "--label").Select(x => $"--label {args[x.i + 1]}"));
            Assert.Contains(HaContainerLaunch.VolumePrefixLabel, labels, StringComparison.Ordinal);
            Created(PodmanEnvironment.Podman($"create --name {name} {labels} {PodmanEnvironment.RedisImage}"));
            await launch.RemoveLeftoverAsync(Resource, logger, CancellationToken.None);
            Assert.False(Exists(name), $"the leftover {name} with this AppHost's labels was not removed");
        }
        finally
        {
            PodmanEnvironment.Podman($"rm --force {name}");
        }
    }

    private static void Created((int ExitCode, string Output) create) => Assert.True(create.ExitCode == 0, $"podman create: {create.Output}");

    private static bool Exists(string name) => PodmanEnvironment.Podman($"container exists {name}").ExitCode == 0;
}
