using DiveAspire.AppHost;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;
using static DiveAspire.Tests.Infrastructure.ModelInspection;

namespace DiveAspire.Tests.Model;

/// <summary>Which build of the backend runs (Dive:Backend:Build, Dive:Build:&lt;code&gt;): JIT by default, the Native AOT binary when asked.</summary>
public sealed class AotBackendModelTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("dive-model-aot-").FullName;
    private readonly TestSecrets _secrets = new();

    private Task<IDistributedApplicationTestingBuilder> BuildAsync(params string[] extra) => BuildModelAsync("process", "rou,bel", _data, _secrets, extra);

    private static IResource Backend(IDistributedApplicationTestingBuilder builder, string code) =>
        Assert.Single(builder.Resources, r => r.Name == $"backend-{code}");

    private static string AotBinary => BackendLaunch.AotBinaryPath(new Projects.DiveAspire_Backend().ProjectPath);

    [Fact]
    public async Task One_backend_asked_for_aot_runs_the_published_binary_or_the_apphost_says_how_to_publish_it()
    {
        if (File.Exists(AotBinary))
        {
            await using var builder = await BuildAsync("Dive:Build:rou=aot");
            var rou = Assert.IsType<BackendExecutableResource>(Backend(builder, "rou"));
            Assert.Equal(AotBinary, rou.Command);
            Assert.Equal(Path.GetDirectoryName(new Projects.DiveAspire_Backend().ProjectPath), rou.WorkingDirectory);
            // The same settings as a JIT backend: the peers, its stores, its port.
            var env = await EnvironmentAsync(rou);
            Assert.Contains("services__backend-usa__http__0", env.Keys);
            Assert.Contains("ConnectionStrings__blacklist", env.Keys);
            Assert.Equal("true", env["Dive__ExitWithOrchestrator"]);
            Assert.Equal(PortPlan.Backend(NatoCatalog.Get("rou")), Assert.Single(rou.Annotations.OfType<EndpointAnnotation>()).Port);
            // The others stay on the JIT build.
            Assert.NotEqual(AotBinary, Assert.IsType<BackendExecutableResource>(Backend(builder, "usa")).Command);
        }
        else
        {
            var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("Dive:Build:rou=aot"));
            Assert.Equal($"Dive:Backend:Build=aot needs the Native AOT backend at {AotBinary}: ./dive up --aot publishes it.", ex.Message);
        }
    }

    [Fact]
    public async Task Jit_is_the_default_and_jit_runs_the_build_output_not_the_aot_binary()
    {
        // (The whole run may ask for AOT: ./dive test --aot sets Dive__Backend__Build, so the default is checked on a blank configuration.)
        Assert.Equal(BackendBuild.Jit, BackendLaunch.BuildFor(new ConfigurationBuilder().Build(), "rou"));
        await using var builder = await BuildAsync("Dive:Backend:Build=jit", "Dive:Build:bel=jit");
        Assert.All(new[] { "usa", "rou", "bel" }, code => Assert.NotEqual(AotBinary, Assert.IsType<BackendExecutableResource>(Backend(builder, code)).Command));
    }

    [Fact]
    public async Task Publishing_the_graph_ignores_the_aot_setting()
    {
        await using var builder = await BuildAsync("--operation", "publish", "Dive:Backend:Build=aot");
        Assert.All(new[] { "usa", "rou", "bel" }, code => Assert.IsType<ProjectResource>(Backend(builder, code)));
    }

    [Theory]
    [InlineData("Dive:Backend:Build=native", "Dive:Backend:Build must be jit or aot (got 'native').")]
    [InlineData("Dive:Build:rou=1", "Dive:Build:rou must be jit or aot (got '1').")]
    public async Task A_bad_build_setting_stops_the_apphost_with_one_clear_message(string setting, string message)
    {
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync(setting));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public async Task The_aot_backend_cannot_run_replicas_and_says_what_to_use()
    {
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("Dive:Build:bel=aot", "Dive:Replicas:bel=3"));
        Assert.Equal("backend-bel has 3 replicas: the AOT backend runs one process per backend; use Dive:Backend:Build=jit.", ex.Message);
    }

    [Fact]
    public void A_published_binary_is_taken_where_dive_publishes_it_and_a_missing_one_is_named()
    {
        var projectPath = new Projects.DiveAspire_Backend().ProjectPath;
        Assert.Equal(Path.Combine(Path.GetDirectoryName(projectPath)!, "bin", "aot", "publish", "DiveAspire.Backend"), BackendLaunch.AotBinaryPath(projectPath));
        var present = Path.Combine(_data, "DiveAspire.Backend");
        File.WriteAllText(present, "");
        Assert.Equal(present, BackendLaunch.RequireAot("backend-usa", replicas: 1, present));
        var missing = Path.Combine(_data, "absent", "DiveAspire.Backend");
        var ex = Assert.Throws<TopologyException>(() => BackendLaunch.RequireAot("backend-usa", replicas: 1, missing));
        Assert.Equal($"Dive:Backend:Build=aot needs the Native AOT backend at {missing}: ./dive up --aot publishes it.", ex.Message);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
