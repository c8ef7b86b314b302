using DiveAspire.Topology;

namespace DiveAspire.AppHost.Kubernetes;

/// <summary>
/// <c>secrets/&lt;code&gt;/</c>: a kustomization whose secretGenerator makes the nation's Secrets (the namespace's
/// <c>dive-secrets</c> with one key per secret parameter, each Redis's ACL file, on the hub the exporter's password
/// file and Grafana's admin password) from files in <c>values/</c>, which are git-ignored and written only with
/// <c>--secrets-from user-secrets</c>; and <c>external-secret.yaml</c>, the same keys from a secret manager under the
/// original's names (dive-v3-redis-&lt;label&gt;-&lt;user&gt;) for an External Secrets Operator.
/// </summary>
public sealed class SecretFiles(PublishedGraph graph, InstanceDefinition instance, string output)
{
    public const string ValuesDirectory = "values";
    public const string EnvFile = "dive-secrets.env";

    private string Directory => Path.Combine(output, "secrets", instance.LowerCode);

    /// <summary>The secret parameters the nation's workloads read (environment keys), by name.</summary>
    public IReadOnlyList<ParameterResource> Parameters =>
        graph.Of(instance).SelectMany(w => w.Env).Where(e => e.SecretKey is not null).Select(e => e.SecretKey!).Distinct().Order(StringComparer.Ordinal)
            .Select(name => graph.Workloads.SelectMany(w => w.Resource.Annotations.OfType<RedisUsersAnnotation>()).SelectMany(u => u.Users).Select(u => u.Password)
                .Concat(Parameter(name)).First(p => p.Name == name))
            .ToList();

    private ParameterResource PasswordOf(RedisUser user) =>
        Parameter(user.PasswordParameterName).FirstOrDefault() ?? throw new TopologyException($"The graph has no secret parameter {user.PasswordParameterName}.");

    private IEnumerable<ParameterResource> Parameter(string name) =>
        graph.Model.Resources.OfType<ParameterResource>().Where(p => p.Name == name);

    public async Task WriteAsync(bool withValues, CancellationToken ct)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var redis = graph.Of(instance).Where(w => w.Kind == WorkloadKind.Redis).DistinctBy(KustomizeWriter.AclSecret).ToList();
        var ha = HubHa(instance);
        var hub = instance == graph.Topology.Hub;
        var exporter = hub ? graph.Workloads.SingleOrDefault(w => w.ResourceName == MonitoringNames.RedisExporter) : null;
        var grafana = hub ? graph.Workloads.SingleOrDefault(w => w.ResourceName == MonitoringNames.Grafana) : null;

        var generators = new List<object>
        {
            new Map { ["name"] = ValueTranslator.SecretName, ["envs"] = new List<object> { $"{ValuesDirectory}/{EnvFile}" } },
        };
        generators.AddRange(redis.Select(r => (object)new Map
        {
            ["name"] = KustomizeWriter.AclSecret(r),
            ["files"] = r.Store!.Kind == RedisKind.TokenStore && ha is not null
                ? new List<object> { $"{DiveRedisBuilderExtensions.AclFileName}={ValuesDirectory}/{KustomizeWriter.AclSecret(r)}.acl", $"{SharedStoreHa.ReplicationConfig}={ValuesDirectory}/{SharedStoreHa.ReplicationConfig}" }
                : new List<object> { $"{DiveRedisBuilderExtensions.AclFileName}={ValuesDirectory}/{KustomizeWriter.AclSecret(r)}.acl" },
        }));
        if (ha is not null)
        {
            generators.Add(new Map { ["name"] = SharedStoreHa.SentinelSecret, ["files"] = new List<object> { $"{SharedStoreHa.SentinelConfig}={ValuesDirectory}/{SharedStoreHa.SentinelConfig}" } });
        }
        if (exporter is not null)
        {
            generators.Add(new Map { ["name"] = KustomizeWriter.ExporterPasswordsSecret, ["files"] = new List<object> { $"passwords.json={ValuesDirectory}/exporter-passwords.json" } });
        }
        if (grafana is not null)
        {
            generators.Add(new Map { ["name"] = KustomizeWriter.GrafanaAdminSecret, ["files"] = new List<object> { $"admin-password={ValuesDirectory}/grafana-admin-password" } });
        }
        var kustomization = new Map
        {
            ["apiVersion"] = "kustomize.config.k8s.io/v1beta1",
            ["kind"] = "Kustomization",
            ["namespace"] = PublishSettings.Namespace(instance),
            // The workloads name these Secrets as they are: no hash suffix.
            ["generatorOptions"] = new Map { ["disableNameSuffixHash"] = true },
            ["secretGenerator"] = generators,
        };
        await File.WriteAllTextAsync(Path.Combine(Directory, "kustomization.yaml"),
            $"# `kubectl apply -k` this after `./dive publish kubernetes --secrets-from user-secrets` wrote {ValuesDirectory}/ (git-ignored),\n" +
            "# or provide the same Secrets otherwise (external-secret.yaml). Generated: do not edit.\n" + Yaml.Document(kustomization), ct).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(Directory, "external-secret.yaml"), Yaml.Document(ExternalSecret()), ct).ConfigureAwait(false);

        if (!withValues)
        {
            return;
        }
        var values = Path.Combine(Directory, ValuesDirectory);
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(values);
        }
        else
        {
            System.IO.Directory.CreateDirectory(values, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var lines = new List<string>();
        foreach (var parameter in Parameters)
        {
            lines.Add($"{parameter.Name}={await ValueAsync(parameter, ct).ConfigureAwait(false)}");
        }
        await PrivateFile.WriteAsync(Path.Combine(values, EnvFile), string.Join('\n', lines) + "\n", ct).ConfigureAwait(false);
        foreach (var r in redis)
        {
            // Every user the published store has (the shared store's also replication and sentinel), each with its parameter's value.
            var users = new List<(RedisUser, string)>();
            foreach (var user in RedisAcl.Users(r.Store!.Kind == RedisKind.TokenStore ? graph.Topology.Blacklist : r.Store, graph.Topology))
            {
                users.Add((user, await ValueAsync(PasswordOf(user), ct).ConfigureAwait(false)));
            }
            await PrivateFile.WriteAsync(Path.Combine(values, $"{KustomizeWriter.AclSecret(r)}.acl"), RedisAcl.Render(users), ct).ConfigureAwait(false);
        }
        if (ha is not null)
        {
            var store = graph.Topology.Blacklist;
            var replication = await ValueAsync(PasswordOf(RedisAcl.Replication(store)), ct).ConfigureAwait(false);
            var sentinel = await ValueAsync(PasswordOf(RedisAcl.Sentinel(store)), ct).ConfigureAwait(false);
            await PrivateFile.WriteAsync(Path.Combine(values, SharedStoreHa.ReplicationConfig), SharedStoreHa.RenderReplicationConfig(replication), ct).ConfigureAwait(false);
            var sentinelUsers = new List<(RedisUser, string)>();
            foreach (var user in RedisAcl.SentinelUsers(graph.Topology))
            {
                sentinelUsers.Add((user, await ValueAsync(PasswordOf(user), ct).ConfigureAwait(false)));
            }
            await PrivateFile.WriteAsync(Path.Combine(values, SharedStoreHa.SentinelConfig), SharedStoreHa.RenderSentinelConfig(graph.Topology, ha, sentinel, sentinelUsers), ct).ConfigureAwait(false);
        }
        if (exporter is not null)
        {
            var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var r in graph.Workloads.Where(w => w.Kind == WorkloadKind.Redis))
            {
                var password = PasswordOf(RedisAcl.Exporter(r.Store!));
                map[$"redis://{graph.Address(r)}"] = await ValueAsync(password, ct).ConfigureAwait(false);
            }
            await PrivateFile.WriteAsync(Path.Combine(values, "exporter-passwords.json"), System.Text.Json.JsonSerializer.Serialize(map), ct).ConfigureAwait(false);
        }
        if (grafana is not null && Parameter("grafana-admin-password").FirstOrDefault() is { } grafanaPassword)
        {
            await PrivateFile.WriteAsync(Path.Combine(values, "grafana-admin-password"), await ValueAsync(grafanaPassword, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
        }
    }

    private BlacklistHighAvailability? HubHa(InstanceDefinition owner) => owner == graph.Topology.Hub ? graph.Topology.BlacklistHa : null;

    private static async Task<string> ValueAsync(ParameterResource parameter, CancellationToken ct) =>
        await parameter.GetValueAsync(ct).ConfigureAwait(false) is { Length: > 0 } value
            ? value
            : throw new TopologyException($"The secret parameter {parameter.Name} has no value in the AppHost's user secrets (run ./dive up once, or set it).");

    /// <summary>The nation's dive-secrets from a secret manager: each key from the secret of the original's name.</summary>
    private Map ExternalSecret() => new()
    {
        ["apiVersion"] = "external-secrets.io/v1beta1",
        ["kind"] = "ExternalSecret",
        ["metadata"] = new Map { ["name"] = ValueTranslator.SecretName, ["namespace"] = PublishSettings.Namespace(instance) },
        ["spec"] = new Map
        {
            ["refreshInterval"] = "1h",
            ["secretStoreRef"] = new Map { ["kind"] = "ClusterSecretStore", ["name"] = "dive-secret-manager" },
            ["target"] = new Map { ["name"] = ValueTranslator.SecretName },
            ["data"] = Parameters.Select(p => (object)new Map
            {
                ["secretKey"] = p.Name,
                ["remoteRef"] = new Map { ["key"] = SecretManagerName(p.Name) },
            }).ToList(),
        },
    };

    /// <summary>The original's Secret Manager name: dive-v3-redis-&lt;label&gt;[-&lt;user&gt;] for Redis passwords, dive-v3-&lt;parameter&gt; otherwise.</summary>
    public static string SecretManagerName(string parameterName) =>
        parameterName.StartsWith("redis-password-", StringComparison.Ordinal)
            ? "dive-v3-redis-" + parameterName["redis-password-".Length..]
            : "dive-v3-" + parameterName;
}
