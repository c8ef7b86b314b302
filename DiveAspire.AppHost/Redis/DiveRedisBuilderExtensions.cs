using System.Globalization;
using DiveAspire.AppHost;
using DiveAspire.AppHost.Tls;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

public static class DiveRedisBuilderExtensions
{
    /// <summary>Adds one Redis of the federation, as a container or as a local redis-server process.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddDiveRedis(
        this IDistributedApplicationBuilder builder, RedisStoreSpec spec, DiveTopology topology, DiveRuntime runtime, DiveOptions options)
    {
        var users = builder.AddRedisUserPasswords(spec, topology);
        var redis = runtime == DiveRuntime.Container
            ? builder.AddRedisContainer(spec, users, options)
            : (IResourceBuilder<IResourceWithConnectionString>)builder.AddLocalRedis(spec, users, options);
        return redis.WithRedisOperations(spec);
    }

    /// <summary>Where the container's ACL file is copied (readable by its owner only).</summary>
    public const string ContainerAclDirectory = "/etc/dive-redis";
    public const string AclFileName = "users.acl";

    public static string VolumeName(RedisStoreSpec spec, DiveOptions options) => $"{options.VolumePrefix}-{spec.ResourceName}-data";

    private static IResourceBuilder<IResourceWithConnectionString> AddRedisContainer(
        this IDistributedApplicationBuilder builder, RedisStoreSpec spec, RedisUsersAnnotation users, DiveOptions options)
    {
        // Aspire's integration is given the admin password only to build its resource; it would pass it as REDIS_PASSWORD
        // and --requirepass, both removed below: the ACL file copied into the container is the only place with passwords.
#pragma warning disable ASPIRECERTIFICATES001 // experimental in Aspire 13.6; the documented way to keep a Redis plain
        var redis = builder.AddRedis(spec.ResourceName, spec.HostPort, builder.CreateResourceBuilder(users[RedisAcl.AdminUser].Password))
            // Plain TCP behind the ACL users, as in the process runtime and the original system (see README, "One port
            // convention"). Without this, a machine with a trusted developer certificate gets TLS on the planned port
            // (6379 + offset, 6479) and plain TCP on a random one, which the CLI, redis-cli and the exporter cannot use.
            .WithoutHttpsCertificate()
#pragma warning restore ASPIRECERTIFICATES001
            .WithAnnotation(users)
            .WithVolume(VolumeName(spec, options), "/data")
            .WithContainerFiles(ContainerAclDirectory, async (_, ct) =>
                [new ContainerFile { Name = AclFileName, Contents = await users.RenderAclFileAsync(ct).ConfigureAwait(false), Mode = UnixFileMode.UserRead }],
                defaultOwner: 0, defaultGroup: 0)
            .WithEnvironment(context => context.EnvironmentVariables.Remove(RedisPasswordVariable))
            .WithArgs(context => AppendServerSettings(context.Args, spec, ["--aclfile", $"{ContainerAclDirectory}/{AclFileName}"]));
        if (!builder.ExecutionContext.IsPublishMode)
        {
            // No orchestrator proxy in front either: the container runtime publishes the planned host port straight to
            // the container's 6379 (issue 16; a published Service keeps its port and target port as before).
            redis.WithEndpoint(LocalRedisResource.PrimaryEndpointName, endpoint => endpoint.IsProxied = false)
                .WithFreePortWhenRandomized(builder, proxied: false);
        }
        // Its connection string (health check, references) logs in as operator, like the process runtime's.
        redis.WithAnnotation(new ConnectionStringRedirectAnnotation(
            new ConnectionStringResource($"{spec.ResourceName}-operator", RedisConnectionStrings.For(redis.Resource, RedisAcl.OperatorUser))));
        return redis;
    }

    /// <summary>The variable through which Aspire's Redis integration passes the password to --requirepass.</summary>
    private const string RedisPasswordVariable = "REDIS_PASSWORD";

    /// <summary>
    /// Aspire runs the Redis container as <c>/bin/sh -c "redis-server --requirepass $REDIS_PASSWORD ..."</c> (in run
    /// mode it lists the words and DCP joins them; in publish mode it has joined them already behind "-c"). The
    /// requirepass pair is dropped (the ACL file replaces it), the DIVE settings join that command, and "exec" makes
    /// redis-server replace the shell as PID 1: a shell as PID 1 ignores SIGTERM, so each stop would wait out the
    /// runtime's 10 s grace and then SIGKILL Redis without its final save.
    /// </summary>
    private static void AppendServerSettings(IList<object> args, RedisStoreSpec spec, IReadOnlyList<string> aclSettings)
    {
        IReadOnlyList<string> settings = [.. aclSettings, .. spec.ServerArguments()];
        var shellCommand = args.IndexOf("-c") + 1;
        if (shellCommand > 0 && shellCommand < args.Count && args[shellCommand] is string command)
        {
            var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            RemoveRequirePass(words);
            args[shellCommand] = string.Join(' ', ["exec", .. words, .. settings]);
            return;
        }
        var list = args.ToList();
        RemoveRequirePass(list);
        args.Clear();
        args.Add("exec");
        foreach (var arg in list.Concat(settings))
        {
            args.Add(arg);
        }
    }

    private static void RemoveRequirePass<T>(List<T> words)
    {
        var index = words.FindIndex(w => w is "--requirepass");
        if (index >= 0)
        {
            words.RemoveRange(index, Math.Min(2, words.Count - index));
        }
    }

    /// <summary>
    /// One redis-server process; <paramref name="replication"/> makes it a data node of the HA shared store, and
    /// <paramref name="container"/> runs it from the Redis image on the host's network (the HA store in container runtime).
    /// </summary>
    internal static IResourceBuilder<LocalRedisResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder, RedisStoreSpec spec, RedisUsersAnnotation users, DiveOptions options,
        DataNodeReplication? replication = null, HaContainerLaunch? container = null)
    {
        var dataDirectory = Path.Combine(options.DataPath, spec.ResourceName);
        CreatePrivateDirectory(dataDirectory);
        // Only the shared store serves other machines (joined spokes); an instance's own Redis stays on loopback.
        var bindAddress = spec.Kind == RedisKind.TokenStore ? options.RedisBindAddress : DiveOptions.Loopback;

        var redis = new LocalRedisResource(spec.ResourceName, container?.Command ?? options.RedisServerPath, dataDirectory);
        redis.Annotations.Add(users);
        // Reachable from other machines: TLS only (the HA store is refused beyond loopback: AddDiveBlacklistHa).
        var tls = container is null && replication is null && !BindAddress.IsLoopback(bindAddress)
            ? TlsSettings.From(builder.Configuration, options.DataPath).ServerCertificate(spec.ResourceName, bindAddress)
            : null;
        if (tls is not null)
        {
            redis.Annotations.Add(new RedisTlsAnnotation(tls.CaCertificatePath, tls));
        }
        var healthCheckKey = $"{spec.ResourceName}_check";
        // A DI singleton, so one multiplexer serves every check and is disposed with the AppHost.
        builder.Services.AddKeyedSingleton(healthCheckKey, (_, _) => new RedisPingHealthCheck(redis));
        builder.Services.AddHealthChecks().Add(new(healthCheckKey, sp => sp.GetRequiredKeyedService<RedisPingHealthCheck>(healthCheckKey), failureStatus: null, tags: null));

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(redis, async (e, ct) =>
        {
            var logger = e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(redis);
            if (tls is not null)
            {
                // Public: what a joining spoke's operator checks its copy of ca.pem against (Dive:Join:CertificateAuthoritySha256).
                logger.LogInformation("TLS only beyond loopback; clients validate against {CaCertificate}, SHA-256 fingerprint {Fingerprint}",
                    tls.CaCertificatePath, CertificateFingerprint.Sha256(tls.CaCertificatePath));
            }
            if (container is null)
            {
                await LeftoverRedis.StopAsync(dataDirectory, logger, ct).ConfigureAwait(false);
            }
            else
            {
                await container.RemoveLeftoverAsync(redis.Name, logger, ct).ConfigureAwait(false);
            }
            RestrictDataFiles(dataDirectory);
            await PrivateFile.WriteAsync(redis.AclFilePath, await users.RenderAclFileAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false);
            var replicationLines = replication is null ? "" : await replication.ConfigLinesAsync(redis, ct).ConfigureAwait(false);
            await PrivateFile.WriteAsync(redis.SecretConfigPath,
                "# Written by the DiveAspire AppHost at each start. Do not commit.\n" +
                string.Create(CultureInfo.InvariantCulture, $"aclfile \"{redis.AclFilePath}\"\n") + replicationLines, ct).ConfigureAwait(false);
        });

        // No orchestrator proxy in front: redis-server binds its planned port itself (in a container on the host's
        // network too: HaContainerLaunch.BindAddresses). DCP's proxy copied every command of every request through one
        // more process (issue 16: about 30 us of DCP's CPU per request on ROU's full path).
        return builder.AddResource(redis)
            .WithEndpoint(port: spec.HostPort, name: LocalRedisResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithFreePortWhenRandomized(builder, proxied: false)
            .WithArgs(context =>
            {
                foreach (var arg in container?.RunArguments(redis.Name, dataDirectory, VolumeName(spec, options)) ?? [])
                {
                    context.Args.Add(arg);
                }
                context.Args.Add(redis.SecretConfigPath);
                context.Args.Add(tls is null ? "--port" : "--tls-port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                if (tls is not null)
                {
                    context.Args.Add("--port");
                    context.Args.Add("0");
                    foreach (var arg in RedisTls.ServerArguments(tls))
                    {
                        context.Args.Add(arg);
                    }
                }
                context.Args.Add("--bind");
                foreach (var address in container?.BindAddresses() ?? BindAddress.RedisBindList(bindAddress))
                {
                    context.Args.Add(address);
                }
                context.Args.Add("--protected-mode");
                context.Args.Add("yes");
                context.Args.Add("--dir");
                context.Args.Add(container is null ? dataDirectory : HaContainerLaunch.DataDirectory);
                foreach (var arg in spec.ServerArguments())
                {
                    context.Args.Add(arg);
                }
                replication?.AddArguments(context.Args, redis.PrimaryEndpoint);
            })
            .WithBindAddress(LocalRedisResource.PrimaryEndpointName, bindAddress)
            .WithHealthCheck(healthCheckKey);
    }

    internal static void CreateDataDirectory(string path) => CreatePrivateDirectory(path);

    /// <summary>
    /// A Redis's data (AOF, RDB: revocations, OTP secrets, codes) is for its owner only: the directory is 0700, also
    /// when an earlier version created it 0755, so other local accounts cannot reach the files Redis creates in it.
    /// </summary>
    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Files left by earlier runs (created with Redis's umask, usually 0644) become 0600 (directories 0700) before each start.</summary>
    private static void RestrictDataFiles(string dataDirectory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        foreach (var entry in new DirectoryInfo(dataDirectory).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            entry.UnixFileMode &= entry is DirectoryInfo
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
    }
}
