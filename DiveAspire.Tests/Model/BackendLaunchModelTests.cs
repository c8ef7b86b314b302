using Aspire.Hosting;
using DiveAspire.AppHost;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using static DiveAspire.Tests.Infrastructure.ModelInspection;

namespace DiveAspire.Tests.Model;

/// <summary>How backends are launched (Dive:BackendLaunch): the built binary by default, the project where replicas or an IDE need it.</summary>
public sealed class BackendLaunchModelTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("dive-model-launch-").FullName;
    private readonly TestSecrets _secrets = new();

    private Task<IDistributedApplicationTestingBuilder> BuildAsync(params string[] extra) => BuildModelAsync("process", "rou,bel", _data, _secrets, extra);

    private static IResource Backend(IDistributedApplicationTestingBuilder builder, string code) =>
        Assert.Single(builder.Resources, r => r.Name == $"backend-{code}");

    [Fact]
    public async Task By_default_every_backend_runs_the_built_binary_from_its_project_directory_with_the_settings_a_project_gets()
    {
        await using var builder = await BuildAsync();
        foreach (var code in new[] { "usa", "rou", "bel" })
        {
            var backend = Assert.IsType<BackendExecutableResource>(Backend(builder, code));
            var projectDirectory = Path.GetDirectoryName(new Projects.DiveAspire_Backend().ProjectPath)!;
            Assert.Equal(projectDirectory, backend.WorkingDirectory);
            Assert.StartsWith(Path.Combine(projectDirectory, "bin"), backend.Command);
            Assert.True(File.Exists(backend.Command), $"{backend.Command} does not exist");
            Assert.Empty(Strings(await ArgsAsync(backend)));

            var endpoint = Assert.Single(backend.Annotations.OfType<EndpointAnnotation>());
            Assert.Equal(PortPlan.Backend(NatoCatalog.Get(code)), endpoint.Port);
            // One replica: no orchestrator proxy in front (issue 16: the proxy halved /health/live's rate).
            Assert.False(endpoint.IsProxied);

            var env = await EnvironmentAsync(backend);
            // Kestrel listens on the endpoint's target port (without a proxy: the port plan's), on loopback only.
            var urls = Assert.IsType<ReferenceExpression>(env["ASPNETCORE_URLS"]);
            Assert.Equal("http://localhost:{0}", urls.Format);
            var port = Assert.IsType<EndpointReferenceExpression>(Assert.Single(urls.ValueProviders));
            Assert.Equal(EndpointProperty.TargetPort, port.Property);
            Assert.Same(backend, port.Endpoint.Resource);
            Assert.Equal("simple", env["LOGGING__CONSOLE__FORMATTERNAME"]);
            Assert.Equal("true", env["Dive__ExitWithOrchestrator"]);
            Assert.Contains("OTEL_SERVICE_NAME", env.Keys);
            Assert.Contains("OTEL_EXPORTER_OTLP_ENDPOINT", env.Keys);

            // Peers by service discovery, as with project resources.
            foreach (var peer in new[] { "usa", "rou", "bel" }.Where(p => p != code))
            {
                Assert.Contains($"services__backend-{peer}__http__0", env.Keys);
            }
        }
    }

    [Fact]
    public async Task A_backend_with_replicas_runs_as_a_project_and_the_others_stay_executables()
    {
        await using var builder = await BuildAsync("Dive:Replicas:rou=2");
        var rou = Assert.IsType<ProjectResource>(Backend(builder, "rou"));
        Assert.Equal(2, rou.GetReplicaCount());
        Assert.IsType<BackendExecutableResource>(Backend(builder, "usa"));
        Assert.IsType<BackendExecutableResource>(Backend(builder, "bel"));
        // Project and executable backends still find each other.
        Assert.Contains("services__backend-usa__http__0", (await EnvironmentAsync(rou)).Keys);
        Assert.Contains("services__backend-rou__http__0", (await EnvironmentAsync(Backend(builder, "usa"))).Keys);
    }

    [Fact]
    public async Task Only_a_backend_with_replicas_or_one_asked_for_is_behind_the_orchestrator_proxy_and_every_one_keeps_its_planned_port()
    {
        await using var builder = await BuildAsync("Dive:Replicas:rou=2", "Dive:Proxied:bel=true");
        foreach (var (code, proxied) in new[] { ("usa", false), ("rou", true), ("bel", true) })
        {
            var endpoint = Assert.Single(Backend(builder, code).Annotations.OfType<EndpointAnnotation>());
            Assert.Equal(proxied, endpoint.IsProxied);
            Assert.Equal(PortPlan.Backend(NatoCatalog.Get(code)), endpoint.Port);
        }
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("Dive:Proxied:bel=maybe"));
        Assert.Equal("Dive:Proxied:bel must be true or false (got 'maybe').", ex.Message);
    }

    [Fact]
    public async Task The_bench_switches_set_the_garbage_collector_runtime_knobs_and_drop_the_telemetry_export_of_one_backend_only()
    {
        await using var builder = await BuildAsync("Dive:Gc:rou=server", "Dive:Otlp:bel=false", "Dive:DotnetEnv:bel:GCgen0size=0x400000");
        var rou = await EnvironmentAsync(Backend(builder, "rou"));
        var bel = await EnvironmentAsync(Backend(builder, "bel"));
        var usa = await EnvironmentAsync(Backend(builder, "usa"));
        Assert.Equal("1", rou["DOTNET_gcServer"]);
        Assert.DoesNotContain("DOTNET_gcServer", usa.Keys);
        Assert.Equal("0x400000", bel["DOTNET_GCgen0size"]);
        Assert.Equal(BackendGen0Budget.Value, rou["DOTNET_GCgen0size"]);
        Assert.Equal("", bel["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.NotEqual("", usa["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("Dive:Gc:rou=fast"));
        Assert.Equal("Dive:Gc:rou must be server or workstation (got 'fast').", ex.Message);
        ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("Dive:DotnetEnv:rou:GC-size=1"));
        Assert.Equal("Dive:DotnetEnv:rou:GC-size must name a GC or tiering knob (GC..., Tiered..., TC_...: letters, digits, _) and have a value.", ex.Message);
        // A bench switch must not reach knobs that run code in the backend or open diagnostics.
        foreach (var knob in new[] { "STARTUP_HOOKS", "EnableDiagnostics", "ROOT" })
        {
            await Assert.ThrowsAsync<TopologyException>(() => BuildAsync($"Dive:DotnetEnv:rou:{knob}=x"));
        }
    }

    [Theory]
    [InlineData("Dive:BackendLaunch=project")]
    [InlineData("DEBUG_SESSION_PORT=51234")]
    public async Task Project_launch_is_chosen_explicitly_or_when_an_ide_runs_the_apphost(string setting)
    {
        await using var builder = await BuildAsync(setting);
        Assert.All(new[] { "usa", "rou", "bel" }, code => Assert.IsType<ProjectResource>(Backend(builder, code)));
    }

    [Fact]
    public async Task Publishing_the_graph_keeps_the_backends_as_projects()
    {
        await using var builder = await BuildAsync("--operation", "publish");
        Assert.True(builder.ExecutionContext.IsPublishMode);
        Assert.All(new[] { "usa", "rou", "bel" }, code => Assert.IsType<ProjectResource>(Backend(builder, code)));
    }

    [Theory]
    [InlineData("Dive:BackendLaunch=container", "Dive:BackendLaunch must be auto, executable or project (got 'container').")]
    [InlineData("Dive:BackendLaunch=5", "Dive:BackendLaunch must be auto, executable or project (got '5').")]
    public async Task A_bad_launch_setting_stops_the_apphost_with_one_clear_message(string setting, string message)
    {
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync(setting));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public async Task Executable_launch_cannot_run_replicas_and_says_what_to_use()
    {
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("Dive:BackendLaunch=executable", "Dive:Replicas:bel=3"));
        Assert.Equal("backend-bel has 3 replicas: Dive:BackendLaunch=executable runs one process per backend; use auto or project.", ex.Message);
    }

    [Fact]
    public async Task Dcp_per_process_watchers_are_off_unless_asked_for_and_a_bad_value_is_refused()
    {
        await using (await BuildAsync())
        {
            Assert.Equal("true", Environment.GetEnvironmentVariable(Aspire.Hosting.OrchestratorSettings.DisableMonitorProcessVariable));
        }
        await using (await BuildAsync("Dive:ProcessWatchers=true"))
        {
            Assert.Null(Environment.GetEnvironmentVariable(Aspire.Hosting.OrchestratorSettings.DisableMonitorProcessVariable));
        }
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("Dive:ProcessWatchers=sometimes"));
        Assert.Equal("Dive:ProcessWatchers must be true or false (got 'sometimes').", ex.Message);
        await using (await BuildAsync())
        {
            Assert.Equal("true", Environment.GetEnvironmentVariable(Aspire.Hosting.OrchestratorSettings.DisableMonitorProcessVariable));
        }
    }

    [Fact]
    public void Without_a_build_auto_falls_back_to_the_project_and_executable_says_what_is_missing()
    {
        var missing = Path.Combine(_data, "DiveAspire.Backend");
        Assert.Equal(BackendLaunchMode.Project, BackendLaunch.Resolve(BackendLaunchMode.Auto, "backend-usa", replicas: 1, projectOnly: false, missing));
        var ex = Assert.Throws<TopologyException>(() => BackendLaunch.Resolve(BackendLaunchMode.Executable, "backend-usa", replicas: 1, projectOnly: false, missing));
        Assert.Equal($"Dive:BackendLaunch=executable needs the built backend at {missing}: build the solution first (./dive up does).", ex.Message);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
