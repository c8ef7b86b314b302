using Aspire.Hosting;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using static DiveAspire.Tests.Infrastructure.ModelInspection;

namespace DiveAspire.Tests.Security;

/// <summary>The development signing key exists only in the process runtime's run mode.</summary>
[Trait("Category", "Security")]
public sealed class DevSigningKeyModelTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("dive-model-devkey-").FullName;
    private readonly TestSecrets _secrets = new();

    [Fact]
    public async Task Publishing_never_includes_the_development_key()
    {
        await using var builder = await BuildModelAsync("process", "rou", _data, _secrets, "--operation", "publish");
        Assert.True(builder.ExecutionContext.IsPublishMode);
        Assert.DoesNotContain(builder.Resources, r => r.Name == Federation.DevSigningKeyParameter);
        Assert.Contains(builder.Resources, r => r.Name == Federation.FederationKeyParameter);
    }

    [Theory]
    [InlineData("container")]
    [InlineData("process", "--operation", "publish")]
    public async Task A_development_key_configured_for_a_backend_outside_the_process_run_stops_the_apphost(string runtime, params string[] extra)
    {
        var ex = await Assert.ThrowsAsync<TopologyException>(() =>
            BuildModelAsync(runtime, "rou", _data, _secrets, [.. extra, "Dive:Backends:rou:Auth:DevSigningKey=0123456789abcdef0123456789abcdef"]));
        Assert.Contains("development signing key", ex.Message);
    }

    [Fact]
    public async Task Every_backend_gets_the_federation_key_in_both_runtimes()
    {
        foreach (var runtime in new[] { "process", "container" })
        {
            await using var builder = await BuildModelAsync(runtime, "rou", _data, _secrets, "Dive:Keycloak=false");
            foreach (var backend in builder.Resources.OfType<IResourceWithEnvironment>().Where(r => r.Name.StartsWith("backend-", StringComparison.Ordinal)))
            {
                Assert.Contains("Dive__FederationKey", (await EnvironmentAsync(backend)).Keys);
            }
        }
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
