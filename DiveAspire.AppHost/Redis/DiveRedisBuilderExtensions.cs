using System.Globalization;
using DiveAspire.AppHost;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;

namespace Aspire.Hosting;

public static class DiveRedisBuilderExtensions
{
    /// <summary>Adds one Redis of the federation, as a container or as a local redis-server process.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddDiveRedis(
        this IDistributedApplicationBuilder builder, RedisStoreSpec spec, DiveRuntime runtime, DiveOptions options)
    {
        var password = builder.AddRedisPassword(spec);
        var redis = runtime == DiveRuntime.Container
            ? builder.AddRedisContainer(spec, password, options)
            : builder.AddLocalRedis(spec, password, options);
        return redis.WithRedisOperations(spec);
    }

    public static string VolumeName(RedisStoreSpec spec, DiveOptions options) => $"{options.VolumePrefix}-{spec.ResourceName}-data";

    private static IResourceBuilder<IResourceWithConnectionString> AddRedisContainer(
        this IDistributedApplicationBuilder builder, RedisStoreSpec spec, IResourceBuilder<ParameterResource> password, DiveOptions options)
    {
#pragma warning disable ASPIRECERTIFICATES001 // experimental in Aspire 13.6; the documented way to keep a Redis plain
        return builder.AddRedis(spec.ResourceName, spec.HostPort, password)
            // Plain TCP behind the password, as in the process runtime and the original system (see README, "One port
            // convention"). Without this, a machine with a trusted developer certificate gets TLS on the planned port
            // (6379 + offset, 6479) and plain TCP on a random one, which the CLI, redis-cli and the exporter cannot use.
            .WithoutHttpsCertificate()
            .WithVolume(VolumeName(spec, options), "/data")
            .WithArgs(context => AppendServerSettings(context.Args, spec));
#pragma warning restore ASPIRECERTIFICATES001
    }

    /// <summary>
    /// Aspire runs the Redis container as <c>/bin/sh -c "redis-server --requirepass $REDIS_PASSWORD ..."</c> (in run
    /// mode it lists the words and DCP joins them; in publish mode it has joined them already behind "-c"). The DIVE
    /// settings join that command, and "exec" makes redis-server replace the shell as PID 1: a shell as PID 1 ignores
    /// SIGTERM, so each stop would wait out the runtime's 10 s grace and then SIGKILL Redis without its final save.
    /// </summary>
    private static void AppendServerSettings(IList<object> args, RedisStoreSpec spec)
    {
        var settings = spec.ServerArguments();
        var shellCommand = args.IndexOf("-c") + 1;
        if (shellCommand > 0 && shellCommand < args.Count && args[shellCommand] is string command)
        {
            args[shellCommand] = string.Join(' ', ["exec", command, .. settings]);
            return;
        }
        args.Insert(0, "exec");
        foreach (var arg in settings)
        {
            args.Add(arg);
        }
    }

    private static IResourceBuilder<IResourceWithConnectionString> AddLocalRedis(
        this IDistributedApplicationBuilder builder, RedisStoreSpec spec, IResourceBuilder<ParameterResource> password, DiveOptions options)
    {
        var dataDirectory = Path.Combine(options.DataPath, spec.ResourceName);
        CreatePrivateDirectory(dataDirectory);

        var redis = new LocalRedisResource(spec.ResourceName, options.RedisServerPath, dataDirectory, password.Resource);
        var healthCheckKey = $"{spec.ResourceName}_check";
        // A DI singleton, so one multiplexer serves every check and is disposed with the AppHost.
        builder.Services.AddKeyedSingleton(healthCheckKey, (_, _) => new RedisPingHealthCheck(redis));
        builder.Services.AddHealthChecks().Add(new(healthCheckKey, sp => sp.GetRequiredKeyedService<RedisPingHealthCheck>(healthCheckKey), failureStatus: null, tags: null));

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(redis, async (e, ct) =>
        {
            await LeftoverRedis.StopAsync(dataDirectory, e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(redis), ct).ConfigureAwait(false);
            RestrictDataFiles(dataDirectory);
            var secret = await password.Resource.GetValueAsync(ct).ConfigureAwait(false);
            await WriteSecretConfigAsync(redis.SecretConfigPath, secret!, ct).ConfigureAwait(false);
        });

        return builder.AddResource(redis)
            .WithEndpoint(port: spec.HostPort, name: LocalRedisResource.PrimaryEndpointName, scheme: "tcp")
            .WithArgs(context =>
            {
                context.Args.Add(redis.SecretConfigPath);
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--protected-mode");
                context.Args.Add("yes");
                context.Args.Add("--dir");
                context.Args.Add(dataDirectory);
                foreach (var arg in spec.ServerArguments())
                {
                    context.Args.Add(arg);
                }
            })
            .WithHealthCheck(healthCheckKey);
    }

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

    private static async Task WriteSecretConfigAsync(string path, string password, CancellationToken ct)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using var stream = new FileStream(path, options);
        await using var writer = new StreamWriter(stream);
        await writer.WriteLineAsync("# Written by the DiveAspire AppHost at each start. Do not commit.".AsMemory(), ct).ConfigureAwait(false);
        await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"requirepass \"{password}\"").AsMemory(), ct).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
