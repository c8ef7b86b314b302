using Aspire.Hosting;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using static DiveAspire.Tests.Infrastructure.ModelInspection;

namespace DiveAspire.Tests.Model;

/// <summary>The resource graph, built but not started, in both runtimes.</summary>
public sealed class GraphModelTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("dive-model-").FullName;
    private readonly TestSecrets _secrets = new();

    private Task<IDistributedApplicationTestingBuilder> BuildAsync(string runtime, string spokes, params string[] extra) =>
        BuildModelAsync(runtime, spokes, _data, _secrets, extra);

    private static IResource Get(IDistributedApplicationTestingBuilder builder, string name) =>
        Assert.Single(builder.Resources, r => r.Name == name);

    private static EndpointAnnotation Endpoint(IResource resource) =>
        Assert.Single(resource.Annotations.OfType<EndpointAnnotation>());

    [Theory]
    [InlineData("process")]
    [InlineData("container")]
    public async Task Hub_and_two_spokes_produce_exactly_the_expected_resources_and_host_ports(string runtime)
    {
        await using var builder = await BuildAsync(runtime, "rou,bel");
        var names = builder.Resources.Where(r => r is BackendExecutableResource or ProjectResource or (IResourceWithConnectionString and not ParameterResource)).Select(r => r.Name).Order().ToList();
        Assert.Equal(["backend-bel", "backend-rou", "backend-usa", "redis-bel", "redis-blacklist", "redis-rou", "redis-usa"], names);

        var secrets = builder.Resources.OfType<ParameterResource>().ToList();
        // One secret per ACL user of each Redis (issue 13): admin keeps redis-password-<label>.
        var topology = DiveTopology.Load(AppHostArgs.InstancesDirectory, "rou,bel");
        string[] expected = [.. topology.RedisStores.SelectMany(s => RedisAcl.Users(s, topology)).Select(u => u.PasswordParameterName),
            "dive-federation-key", "otp-key-bel", "otp-key-rou", "otp-key-usa"];
        Assert.Subset(expected.ToHashSet(), new HashSet<string> { "redis-password-usa", "redis-password-usa-operator", "redis-password-usa-exporter", "redis-password-usa-backend",
            "redis-password-blacklist", "redis-password-blacklist-backend-usa", "redis-password-blacklist-backend-rou", "redis-password-blacklist-backend-bel" });
        // The development signing key exists only in process runtime; container runtime trusts Keycloak instead.
        string[] all = runtime == "process" ? ["dive-dev-signing-key", .. expected] : ["keycloak-admin-password", "keycloak-test-user-password", .. expected];
        Assert.Equal(all.Order(StringComparer.Ordinal),
            secrets.Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.All(secrets, p => Assert.True(p.Secret));

        Assert.Equal(6379, Endpoint(Get(builder, "redis-usa")).Port);
        Assert.Equal(6404, Endpoint(Get(builder, "redis-rou")).Port);
        Assert.Equal(6381, Endpoint(Get(builder, "redis-bel")).Port);
        Assert.Equal(6479, Endpoint(Get(builder, "redis-blacklist")).Port);
        Assert.Equal(4000, Endpoint(Get(builder, "backend-usa")).Port);
        Assert.Equal(4025, Endpoint(Get(builder, "backend-rou")).Port);
        Assert.Equal(4002, Endpoint(Get(builder, "backend-bel")).Port);

        var redisType = runtime == "process" ? typeof(LocalRedisResource) : typeof(RedisResource);
        Assert.All(builder.Resources.Where(r => r.Name.StartsWith("redis-", StringComparison.Ordinal) && r is IResourceWithConnectionString),
            r => Assert.IsType(redisType, r));
    }

    [Theory]
    [InlineData("process")]
    [InlineData("container")]
    public async Task Backends_reference_their_own_redis_and_the_shared_store_and_wait_for_their_own_redis_only(string runtime)
    {
        await using var builder = await BuildAsync(runtime, "rou");
        foreach (var (code, role) in new[] { ("usa", "hub"), ("rou", "spoke") })
        {
            var backend = Get(builder, $"backend-{code}");
            var waits = backend.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).Order().ToList();
            // Container runtime: the backend also waits for its Keycloak (see KeycloakModelTests). Not for the shared store
            // (issue 12): a backend must start during its outage, not ready until its first revocation sync.
            Assert.Equal(runtime == "container" ? [$"keycloak-{code}", $"redis-{code}"] : [$"redis-{code}"], waits);

            var env = await EnvironmentAsync(backend);
            Assert.Equal(code.ToUpperInvariant(), env["Dive__InstanceCode"]);
            Assert.Equal(role, env["Dive__Role"]);
            Assert.Equal(runtime, env["Dive__Runtime"]);
            Assert.Equal("USA,ROU", env["Dive__Federation"]);
            Assert.Equal(BackendGen0Budget.Value, env[BackendGen0Budget.Variable]);
            // Each store with the backend's own ACL user and that user's password parameter (issue 13).
            AssertConnectsAs(env["ConnectionStrings__cache"], Get(builder, $"redis-{code}"), "backend", $"redis-password-{code}-backend");
            AssertConnectsAs(env["ConnectionStrings__blacklist"], Get(builder, "redis-blacklist"), $"backend-{code}", $"redis-password-blacklist-backend-{code}");

            Assert.Contains(backend.Annotations.OfType<HealthCheckAnnotation>(), _ => true);
            Assert.Contains(Get(builder, $"redis-{code}").Annotations.OfType<HealthCheckAnnotation>(), _ => true);

            var parent = Assert.Single(Get(builder, $"redis-{code}").Annotations.OfType<ResourceRelationshipAnnotation>(), r => r.Type == "Parent");
            Assert.Same(backend, parent.Resource);
        }
    }

    private static void AssertConnectsAs(object connectionString, IResource redis, string user, string passwordParameter)
    {
        var expression = Assert.IsType<ReferenceExpression>(connectionString);
        Assert.Contains($",user={user},password={{1}}", expression.Format);
        Assert.Same(redis, Assert.IsType<EndpointReferenceExpression>(expression.ValueProviders[0]).Endpoint.Resource);
        Assert.Equal(passwordParameter, Assert.IsType<ParameterResource>(expression.ValueProviders[1]).Name);
    }

    public static TheoryData<string, string, string, string, string> RedisSettings => new()
    {
        { "redis-usa", "512mb", "allkeys-lru", "everysec", "900 1 300 10 60 10000" },
        { "redis-rou", "256mb", "allkeys-lru", "everysec", "900 1 300 10 60 10000" },
        { "redis-blacklist", "256mb", "noeviction", "always", "900 1 300 10 60 10000" },
    };

    [Theory]
    [MemberData(nameof(RedisSettings))]
    public async Task Process_redis_arguments_carry_the_settings_and_no_password(string name, string maxMemory, string policy, string fsync, string save)
    {
        await using var builder = await BuildAsync("process", "rou");
        var redis = Assert.IsType<LocalRedisResource>(Get(builder, name));
        var raw = await ArgsAsync(redis);
        var args = Strings(raw);

        Assert.Equal(redis.SecretConfigPath, args[0]);
        Assert.Equal("yes", ValueAfter(args, "--appendonly"));
        Assert.Equal(fsync, ValueAfter(args, "--appendfsync"));
        Assert.Equal(maxMemory, ValueAfter(args, "--maxmemory"));
        Assert.Equal(policy, ValueAfter(args, "--maxmemory-policy"));
        Assert.Equal(save, ValueAfter(args, "--save"));
        Assert.Equal("127.0.0.1", ValueAfter(args, "--bind"));
        Assert.Equal("yes", ValueAfter(args, "--protected-mode"));
        Assert.Equal(Path.Combine(_data, name), ValueAfter(args, "--dir"));
        Assert.IsType<EndpointReferenceExpression>(raw[args.IndexOf("--port") + 1]);
        Assert.DoesNotContain("--requirepass", args);
        Assert.All(_secrets.AllValues, secret => Assert.DoesNotContain(args, a => a.Contains(secret, StringComparison.Ordinal)));
        Assert.Equal("redis-server", redis.Command);
        Assert.Equal(["admin", "operator", "exporter"], redis.Users().Users.Select(u => u.User.Name).Take(3));
        Assert.Equal($"redis-password-{name["redis-".Length..]}", redis.Users()["admin"].Password.Name);
    }

    [Theory]
    [MemberData(nameof(RedisSettings))]
    public async Task Container_redis_command_carries_the_settings_and_the_acl_file_and_no_password(string name, string maxMemory, string policy, string fsync, string save)
    {
        await using var builder = await BuildAsync("container", "rou");
        var redis = Assert.IsType<RedisResource>(Get(builder, name));
        var args = Strings(await ArgsAsync(redis));
        Assert.Equal("/bin/sh", redis.Entrypoint);
        // DCP joins these into `/bin/sh -c "<args>"`; exec makes redis-server PID 1 so a stop's SIGTERM reaches it.
#pragma warning disable ASPIRECONTAINERSHELLEXECUTION001 // experimental, but the exec prefix relies on it
        Assert.True(redis.ShellExecution);
#pragma warning restore ASPIRECONTAINERSHELLEXECUTION001
        // Issue 13: the ACL file copied into the container replaces Aspire's --requirepass $REDIS_PASSWORD.
        Assert.Equal(["exec", "redis-server", "--aclfile", "/etc/dive-redis/users.acl"], args.Take(4));
        Assert.DoesNotContain("--requirepass", args);
        Assert.Equal("yes", ValueAfter(args, "--appendonly"));
        Assert.Equal(fsync, ValueAfter(args, "--appendfsync"));
        Assert.Equal(maxMemory, ValueAfter(args, "--maxmemory"));
        Assert.Equal(policy, ValueAfter(args, "--maxmemory-policy"));
        Assert.Equal(save, ValueAfter(args, "--save"));
        Assert.All(_secrets.AllValues, secret => Assert.DoesNotContain(args, a => a.Contains(secret, StringComparison.Ordinal)));

        var env = await EnvironmentAsync(redis);
        Assert.False(env.ContainsKey("REDIS_PASSWORD"), "the password must not be in the container's environment");
        Assert.DoesNotContain(env.Values, v => v is ParameterResource { Secret: true });
        Assert.Contains(redis.Annotations.OfType<ContainerFileSystemCallbackAnnotation>(), a => a.DestinationPath == "/etc/dive-redis");
        var volume = Assert.Single(redis.Annotations.OfType<ContainerMountAnnotation>());
        Assert.Equal($"dive-{name}-data", volume.Source);
        Assert.Equal("/data", volume.Target);
    }

    [Fact]
    public async Task Container_redis_command_in_publish_mode_is_one_exec_shell_command_with_the_settings()
    {
        await using var builder = await BuildAsync("container", "rou");
        var redis = Assert.IsType<RedisResource>(Get(builder, "redis-blacklist"));
        var args = new List<object>();
        var context = new CommandLineArgsCallbackContext(args, redis) { ExecutionContext = new(DistributedApplicationOperation.Publish) };
        foreach (var annotation in redis.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await annotation.Callback(context);
        }
        Assert.Equal(["-c", "exec redis-server --aclfile /etc/dive-redis/users.acl --appendonly yes --appendfsync always --maxmemory 256mb " +
            "--maxmemory-policy noeviction --save 900 1 300 10 60 10000 --tcp-keepalive 300"], Strings(args));
    }

    [Fact]
    public async Task Volume_prefix_setting_renames_every_redis_volume_and_rejects_unsafe_names()
    {
        await using var builder = await BuildAsync("container", "rou", "Dive:VolumePrefix=dive-it-1a2b");
        foreach (var name in new[] { "redis-usa", "redis-rou", "redis-blacklist" })
        {
            var volume = Assert.Single(Get(builder, name).Annotations.OfType<ContainerMountAnnotation>());
            Assert.Equal($"dive-it-1a2b-{name}-data", volume.Source);
        }
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("container", "rou", "Dive:VolumePrefix=../Data"));
        Assert.Contains("Dive:VolumePrefix must be", ex.Message);
    }

    [Fact]
    public async Task Spokes_default_to_every_folder_in_instances()
    {
        var args = new[] { "Dive:Runtime=process", $"Dive:DataPath={_data}", "Dive:Monitoring=false" };
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.DiveAspire_AppHost>(args);
        Assert.Equal(["backend-bel", "backend-dnk", "backend-rou", "backend-usa"],
            builder.Resources.OfType<BackendExecutableResource>().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task Replicas_setting_runs_each_backend_with_that_many_replicas()
    {
        await using var builder = await BuildAsync("process", "rou", "Dive:Replicas=2");
        Assert.Equal(2, Get(builder, "backend-rou").GetReplicaCount());
    }

    [Fact]
    public async Task Unknown_spoke_and_bad_runtime_fail_with_clear_errors()
    {
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("process", "xyz"));
        Assert.Contains("Valid codes", ex.Message);
        var runtime = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("kubernetes", "rou"));
        Assert.Contains("Dive:Runtime must be auto, container or process", runtime.Message);
    }

    [Fact]
    public async Task Missing_redis_server_binary_stops_the_apphost_with_what_to_install()
    {
        var ex = await Assert.ThrowsAsync<TopologyException>(() => BuildAsync("process", "rou", "Dive:RedisServer=/nonexistent/redis-server"));
        Assert.Contains("apt-get install -y redis-server", ex.Message);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
