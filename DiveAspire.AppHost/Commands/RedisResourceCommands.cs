using System.Text.Json;
using DiveAspire.Cli;
using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Operations;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Aspire.Hosting;

/// <summary>
/// Dashboard commands on each Redis resource. They call the same operations library as `dive redis ...`
/// (DiveAspire.Cli.Operations), so the dashboard and the CLI report the same checks the same way.
/// </summary>
public static class RedisResourceCommands
{
    public const string Status = "dive-redis-status";
    public const string Health = "dive-redis-health";
    public const string Stats = "dive-redis-stats";
    public const string Flush = "dive-redis-flush";
    public const string BlacklistStatus = "dive-blacklist-status";
    public const string SentinelStatus = "dive-sentinel-status";
    public const string SentinelFailover = "dive-sentinel-failover";
    public const string SentinelHealth = "dive-sentinel-health";

    public static IResourceBuilder<T> WithRedisOperations<T>(this IResourceBuilder<T> redis, RedisStoreSpec spec)
        where T : IResourceWithConnectionString
    {
        redis.WithCommand(Status, "Redis status", ctx => RunAsync(ctx, redis.Resource, spec, async (target, ct) =>
        {
            var s = await RedisOperations.StatusAsync(target, ct).ConfigureAwait(false);
            return (true, $"{s.Name} (user {s.User}): Redis {s.Version} {s.Role}, {s.Keys} keys, {RedisOperations.Bytes(s.UsedMemoryBytes ?? 0)} used, {s.Clients} clients, AOF {(s.Aof == true ? "on" : "off")}", (object)s);
        }), Options("Version, role, uptime, memory, clients, keys, AOF (same as 'dive redis status')", "Info"));

        redis.WithCommand(Health, "Redis health checks", ctx => RunAsync(ctx, redis.Resource, spec, async (target, ct) =>
        {
            var ha = spec.Kind == RedisKind.TokenStore ? await SentinelSetupAsync(ctx.Services, redis.Resource, ct).ConfigureAwait(false) : null;
            var h = await RedisOperations.HealthAsync(target, ct, ha).ConfigureAwait(false);
            var failed = h.Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}");
            var message = $"Checks passed: {h.Passed}/{h.Total}" + (h.Healthy ? "" : " - failed " + string.Join("; ", failed));
            return (h.Healthy, message, (object)new { h.Name, h.Endpoint, h.Checks, h.Passed, h.Total, h.Healthy });
        }), Options("ping, memory, clients, AOF, password required, eviction policy (same as 'dive redis health')", "HeartPulse"));

        redis.WithCommand(Stats, "Redis stats", ctx => RunAsync(ctx, redis.Resource, spec, async (target, ct) =>
        {
            var s = await RedisOperations.StatsAsync(target, ct).ConfigureAwait(false);
            return (true, $"{s.Name}: {s.TotalCommandsProcessed} commands, hit rate {(s.HitRatePercent is { } r ? $"{r:0.00}%" : "n/a")}, {RedisOperations.Bytes(s.Memory.UsedBytes)} used", (object)s);
        }), Options("Connections, commands, hit rate, memory breakdown (same as 'dive redis stats')", "DataUsage"));

        if (spec.Kind == RedisKind.TokenStore)
        {
            redis.WithCommand(BlacklistStatus, "Revocations and subscribers", ctx => RunAsync(ctx, redis.Resource, spec, async (target, ct) =>
            {
                var codes = ctx.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<IResourceWithServiceDiscovery>()
                    .Where(r => r.Name.StartsWith("backend-", StringComparison.Ordinal))
                    .Select(r => r.Name["backend-".Length..].ToUpperInvariant());
                var b = await BlacklistOperations.StatusAsync(target, codes, ct).ConfigureAwait(false);
                var subscribed = b.Backends.Where(x => x.Subscribed).Select(x => x.Instance);
                return (true, $"{b.RevokedTokens} revoked tokens, {b.RevokedUsers} revoked users; subscribed backends: {string.Join(", ", subscribed)}", (object)b);
            }), Options("Revoked tokens/users (SCAN), subscribers per channel (same as 'dive redis blacklist status')", "ShieldKeyhole"));
            if (spec.ResourceName == RedisStoreSpec.Blacklist.ResourceName)
            {
                redis.WithSentinelOperations();
            }
        }
        else
        {
            var options = Options("Delete every key of this instance's Redis (same as 'dive redis flush --yes')", "Delete");
            options.ConfirmationMessage = $"Delete ALL keys of {spec.ResourceName}? Sessions and cached data of instance {spec.Label} are lost; other instances and the revocation store are not touched.";
            redis.WithCommand(Flush, "Flush Redis", ctx => RunAsync(ctx, redis.Resource, spec, async (target, ct) =>
            {
                var f = await RedisOperations.FlushAsync(target, dryRun: false, ct).ConfigureAwait(false);
                return (true, $"Flushed {f.Name}: {f.KeysBefore - f.KeysAfter} keys deleted, {f.KeysAfter} left", (object)f);
            }), options);
        }
        return redis;
    }

    /// <summary>
    /// With HA (issue 14), on <c>redis-blacklist</c> (the parent of every node): the Sentinels' view and a manual failover,
    /// the same operations as `dive redis sentinel status|failover`. Disabled while the app runs without Sentinels.
    /// </summary>
    private static void WithSentinelOperations<T>(this IResourceBuilder<T> redis) where T : IResourceWithConnectionString
    {
        redis.WithSentinelStatus(redis.Resource);

        redis.WithCommand(SentinelFailover, "Sentinel failover", ctx => RunSentinelAsync(ctx, redis.Resource, async (setup, ct) =>
        {
            var f = await SentinelOperations.FailoverAsync(setup, ct).ConfigureAwait(false);
            return (true, $"Failed over {f.Service} in {f.Seconds:0.0} s: primary was {f.OldPrimary}, now {f.NewPrimary}", (object)f);
        }), SentinelOptions("Promote a replica now (same as 'dive redis sentinel failover --yes')", "ArrowSwap",
            confirmation: $"Make a replica the primary of the revocation store {BlacklistHighAvailability.ServiceName}? Revocations are refused (503) for a few seconds."));
    }

    /// <summary>
    /// On each Sentinel of the HA store: the store's Sentinel status (as on redis-blacklist) and this Sentinel's health:
    /// it answers, names the primary the others name, reaches the quorum (CKQUORUM) and knows every replica and peer.
    /// </summary>
    public static IResourceBuilder<LocalSentinelResource> WithSentinelCommands(this IResourceBuilder<LocalSentinelResource> sentinel, IResourceWithConnectionString store)
    {
        sentinel.WithSentinelStatus(store);
        sentinel.WithCommand(SentinelHealth, "Sentinel health", ctx => RunSentinelAsync(ctx, store, async (setup, ct) =>
        {
            var s = await SentinelOperations.StatusAsync(setup, ct).ConfigureAwait(false);
            var view = s.Sentinels.Single(v => v.Name == sentinel.Resource.Name);
            var problems = new List<string>();
            if (!view.Reachable)
            {
                problems.Add($"does not answer: {view.Error}");
            }
            else
            {
                if (view.Primary != s.Primary?.Endpoint)
                {
                    problems.Add($"names {view.Primary} as primary, the others {s.Primary?.Endpoint}");
                }
                if (view.QuorumReachable != true)
                {
                    problems.Add($"quorum: {view.QuorumMessage}");
                }
                if (view.KnownReplicas < setup.PlannedReplicas || view.KnownSentinels < setup.Sentinels.Count - 1)
                {
                    problems.Add($"knows {view.KnownReplicas} of {setup.PlannedReplicas} replicas and {view.KnownSentinels} of {setup.Sentinels.Count - 1} other Sentinels");
                }
            }
            var message = problems.Count == 0
                ? $"{view.Name}: primary {view.Primary}, {view.KnownReplicas} replicas and {view.KnownSentinels} other Sentinels known, {view.QuorumMessage}"
                : $"{view.Name}: {string.Join("; ", problems)}";
            return (problems.Count == 0, message, (object)view);
        }), SentinelOptions("This Sentinel answers, agrees on the primary, reaches the quorum and knows every replica and Sentinel", "HeartPulse", confirmation: null));
        return sentinel;
    }

    private static void WithSentinelStatus<T>(this IResourceBuilder<T> resource, IResourceWithConnectionString store) where T : IResource
    {
        resource.WithCommand(SentinelStatus, "Sentinel status", ctx => RunSentinelAsync(ctx, store, async (setup, ct) =>
        {
            var s = await SentinelOperations.StatusAsync(setup, ct).ConfigureAwait(false);
            var message = $"primary {s.Primary?.Name}, {s.Replicas.Count(r => r.Online)} of {setup.PlannedReplicas} replicas online, {s.SentinelsReachable} of {s.Sentinels.Count} Sentinels, quorum {(s.QuorumReachable ? "reachable" : "NOT reachable")}"
                + (s.Healthy ? "" : " - " + string.Join("; ", s.Problems));
            return (s.Healthy, message, (object)s);
        }), SentinelOptions("Primary, replicas with lag, Sentinels, quorum, last failover (same as 'dive redis sentinel status')", "BranchFork", confirmation: null));
    }

    /// <summary>
    /// The HA store as the running app has it: each Sentinel's and data node's allocated endpoint, with the shared
    /// store's operator user (admin for a failover), whose secrets every node and Sentinel share. Null without HA.
    /// </summary>
    public static async Task<SentinelSetup?> SentinelSetupAsync(IServiceProvider services, IResourceWithConnectionString store, CancellationToken ct)
    {
        var ha = BlacklistHighAvailability.Default;
        var resources = services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<IResourceWithEndpoints>().ToDictionary(r => r.Name);
        if (!ha.Sentinels.All(s => resources.ContainsKey(s.ResourceName)) || !ha.DataNodes.All(n => resources.ContainsKey(n.ResourceName)))
        {
            return null;
        }
        var users = store.Users();
        var (operatorUser, admin) = (users[RedisAcl.OperatorUser], users[RedisAcl.AdminUser]);
        var operatorPassword = await operatorUser.Password.GetValueAsync(ct).ConfigureAwait(false);
        var adminPassword = await admin.Password.GetValueAsync(ct).ConfigureAwait(false);
        async Task<RedisTarget> TargetAsync(RedisStoreSpec node)
        {
            var text = await new EndpointReference(resources[node.ResourceName], LocalRedisResource.PrimaryEndpointName).Property(EndpointProperty.HostAndPort).GetValueAsync(ct).ConfigureAwait(false)
                ?? throw new CliException($"{node.ResourceName} has no endpoint yet (is it running?).");
            var (host, port) = EndpointOverride.Parse(text, node.ResourceName);
            return new RedisTarget(node, host, port, RedisAcl.OperatorUser, operatorPassword, $"the AppHost parameter {operatorUser.Password.Name}")
            {
                Admin = () => new RedisTarget(node, host, port, RedisAcl.AdminUser, adminPassword, $"the AppHost parameter {admin.Password.Name}"),
            };
        }
        var sentinels = new List<RedisTarget>();
        foreach (var sentinel in ha.Sentinels)
        {
            sentinels.Add(await TargetAsync(ha.InitialPrimary with { ResourceName = sentinel.ResourceName, HostPort = sentinel.HostPort }).ConfigureAwait(false));
        }
        var nodes = new List<RedisTarget>();
        foreach (var node in ha.DataNodes)
        {
            nodes.Add(await TargetAsync(node).ConfigureAwait(false));
        }
        return new SentinelSetup(BlacklistHighAvailability.ServiceName, BlacklistHighAvailability.Quorum, ha.DataNodes.Count - 1, ha.MinReplicasMaxLag, sentinels, nodes);
    }

    private static CommandOptions SentinelOptions(string description, string icon, string? confirmation) => new()
    {
        Description = description,
        IconName = icon,
        ConfirmationMessage = confirmation,
        UpdateState = ctx => ctx.ResourceSnapshot.State?.Text == KnownResourceStates.Running
            && ctx.Services.GetRequiredService<DistributedApplicationModel>().Resources.Any(r => r.Name == BlacklistHighAvailability.Default.Sentinels[0].ResourceName)
                ? ResourceCommandState.Enabled
                : ResourceCommandState.Disabled,
    };

    private static async Task<ExecuteCommandResult> RunSentinelAsync(
        ExecuteCommandContext ctx, IResourceWithConnectionString resource,
        Func<SentinelSetup, CancellationToken, Task<(bool Ok, string Message, object Data)>> operation)
    {
        try
        {
            var setup = await SentinelSetupAsync(ctx.Services, resource, ctx.CancellationToken).ConfigureAwait(false)
                ?? throw new CliException($"{resource.Name} runs without Sentinels: start the app with HA ('./dive up --ha').");
            var (ok, message, data) = await operation(setup, ctx.CancellationToken).ConfigureAwait(false);
            ctx.Logger.LogInformation("{Resource}: {Message}", resource.Name, message);
            var json = JsonSerializer.Serialize(data, CliContext.JsonOptions);
            return ok ? CommandResults.Success(message, json, CommandResultFormat.Json) : CommandResults.Failure(message, json, CommandResultFormat.Json);
        }
        catch (CliException ex)
        {
            return CommandResults.Failure(ex.Message);
        }
    }

    /// <summary>
    /// The resource's own endpoint as its operator user (what every read needs); flush and the ACL check switch to its
    /// admin user (<see cref="RedisTarget.AsAdmin"/>). Passwords come from the users' secret parameters.
    /// </summary>
    public static async Task<RedisTarget> TargetAsync(IResourceWithConnectionString resource, RedisStoreSpec spec, CancellationToken ct)
    {
        var (host, port) = await EndpointAsync(resource, ct).ConfigureAwait(false);
        var users = resource.Users();
        var operatorUser = users[RedisAcl.OperatorUser];
        var admin = users[RedisAcl.AdminUser];
        var adminPassword = await admin.Password.GetValueAsync(ct).ConfigureAwait(false);
        var tls = resource.TlsCaCertificate();
        return new RedisTarget(spec, host, port, RedisAcl.OperatorUser, await operatorUser.Password.GetValueAsync(ct).ConfigureAwait(false), $"the AppHost parameter {operatorUser.Password.Name}")
        {
            Admin = () => new RedisTarget(spec, host, port, RedisAcl.AdminUser, adminPassword, $"the AppHost parameter {admin.Password.Name}") { TlsCaCertificate = tls },
            TlsCaCertificate = tls,
        };
    }

    private static async Task<(string Host, int Port)> EndpointAsync(IResourceWithConnectionString resource, CancellationToken ct)
    {
        var connectionString = await resource.GetConnectionStringAsync(ct).ConfigureAwait(false)
            ?? throw new CliException($"{resource.Name} has no connection string yet (is it running?).");
        var options = ConfigurationOptions.Parse(connectionString);
        var (host, port) = options.EndPoints[0] switch
        {
            System.Net.DnsEndPoint dns => (dns.Host, dns.Port),
            System.Net.IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            var other => throw new CliException($"{resource.Name} has an unexpected endpoint {other}."),
        };
        return (host, port);
    }

    private static CommandOptions Options(string description, string icon) => new()
    {
        Description = description,
        IconName = icon,
        UpdateState = ctx => ctx.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
    };

    private static async Task<ExecuteCommandResult> RunAsync(
        ExecuteCommandContext ctx, IResourceWithConnectionString resource, RedisStoreSpec spec,
        Func<RedisTarget, CancellationToken, Task<(bool Ok, string Message, object Data)>> operation)
    {
        try
        {
            var target = await TargetAsync(resource, spec, ctx.CancellationToken).ConfigureAwait(false);
            var (ok, message, data) = await operation(target, ctx.CancellationToken).ConfigureAwait(false);
            var json = JsonSerializer.Serialize(data, CliContext.JsonOptions);
            ctx.Logger.LogInformation("{Resource}: {Message}", resource.Name, message);
            return ok ? CommandResults.Success(message, json, CommandResultFormat.Json) : CommandResults.Failure(message, json, CommandResultFormat.Json);
        }
        catch (CliException ex)
        {
            return CommandResults.Failure(ex.Message);
        }
    }
}
