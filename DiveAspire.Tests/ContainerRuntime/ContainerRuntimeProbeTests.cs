using DiveAspire.AppHost;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.ContainerRuntime;

/// <summary>Dive:Runtime=auto asks the runtime named by ASPIRE_CONTAINER_RUNTIME (default docker) whether it really answers.</summary>
public sealed class ContainerRuntimeProbeTests
{
    [Theory]
    [InlineData("podman", "info --format {{.Host.OS}}")]
    [InlineData("/usr/bin/podman", "info --format {{.Host.OS}}")]
    [InlineData("docker", "info --format {{.OSType}}")]
    public void Info_query_uses_a_field_the_runtime_has(string runtime, string expected) =>
        // A field the runtime lacks is a template error (exit 125) that made a working Podman look absent.
        Assert.Equal(expected, ContainerRuntimeProbe.InfoArguments(runtime));

    [Fact]
    public void Auto_falls_back_to_process_when_the_named_runtime_does_not_exist() =>
        Assert.Equal(DiveRuntime.Process, ContainerRuntimeProbe.Resolve(DiveRuntime.Auto, "dive-no-such-runtime"));

    [SkippableFact]
    public async Task Auto_picks_the_container_runtime_when_podman_answers()
    {
        Skip.IfNot(PodmanEnvironment.Ready, PodmanEnvironment.Reason);
        var previous = PodmanEnvironment.Variables.ToDictionary(v => v.Key, v => Environment.GetEnvironmentVariable(v.Key));
        foreach (var (name, value) in PodmanEnvironment.Variables)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
        var data = Directory.CreateTempSubdirectory("dive-model-").FullName;
        try
        {
            Assert.Equal(DiveRuntime.Container, ContainerRuntimeProbe.Resolve(DiveRuntime.Auto, "podman"));

            var args = AppHostArgs.For("auto", "rou", data, new TestSecrets(), "ASPIRE_CONTAINER_RUNTIME=podman")
                .Where(a => !a.StartsWith("DcpPublisher", StringComparison.Ordinal)).ToArray();
            await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.DiveAspire_AppHost>(args);
            Assert.All(builder.Resources.Where(r => r.Name.StartsWith("redis-", StringComparison.Ordinal) && r is IResourceWithConnectionString),
                r => Assert.IsType<RedisResource>(r));
        }
        finally
        {
            foreach (var (name, value) in previous)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
            Directory.Delete(data, recursive: true);
        }
    }
}
