using DiveAspire.AppHost.Monitoring;
using DiveAspire.Topology;
using static DiveAspire.AppHost.Kubernetes.KubernetesObjects;

namespace DiveAspire.AppHost.Kubernetes;

/// <summary>
/// Writes the kustomize tree for a <see cref="PublishedGraph"/>:
/// <c>base/</c> (what every nation runs: backend, Redis, Keycloak, their Services, volumes and NetworkPolicies),
/// <c>overlays/&lt;code&gt;/</c> (namespace dive-&lt;code&gt;, that nation's environment, arguments and ports from the graph, the
/// federation ConfigMap with the other nations' addresses; the hub's also the shared store and monitoring) and
/// <c>secrets/&lt;code&gt;/</c> (a secretGenerator over git-ignored files, filled only on request, and an ExternalSecret
/// mapping each key to the original's Secret Manager names). No secret value is ever written outside secrets/.
/// </summary>
public sealed class KustomizeWriter(PublishedGraph graph, MonitoringInputs monitoring, string output)
{
    public const string ExporterPasswordsSecret = "redis-exporter-passwords";
    public const string GrafanaAdminSecret = "grafana-admin";
    public const string NamespaceLabel = "dive.nato.int/instance";

    private DiveTopology Topology => graph.Topology;
    private string HubNamespace => PublishSettings.Namespace(Topology.Hub);

    public static async Task<IReadOnlyList<string>> WriteAsync(PublishedGraph graph, PublishSettings settings, MonitoringInputs monitoring, string output, CancellationToken ct)
    {
        // First: the secret values written below are ignored by git even if this run fails half-way.
        await PublishedGitIgnore.EnsureAsync(output, ct).ConfigureAwait(false);
        var writer = new KustomizeWriter(graph, monitoring, output);
        writer.WriteBase();
        foreach (var instance in graph.Topology.Instances)
        {
            writer.WriteOverlay(instance);
            await new SecretFiles(graph, instance, output).WriteAsync(settings.SecretsFromUserSecrets, ct).ConfigureAwait(false);
        }
        return graph.Topology.Instances.Select(i => i.LowerCode).ToList();
    }

    // ---- base: the hub's own workloads with every nation-specific value left to the overlays ----

    private void WriteBase()
    {
        var template = graph.Of(Topology.Hub).Where(w => !w.IsShared(Topology)).ToList();
        var documents = new List<(string File, IReadOnlyList<object> Objects)>();
        foreach (var workload in template)
        {
            documents.Add(($"{workload.Service}.yaml", ObjectsOf(workload, withInstanceValues: false)));
        }
        documents.Add(("network-policies.yaml", [DefaultDenyIngress()]));
        WriteKustomization(Path.Combine(output, "base"), documents, new Map());
    }

    // ---- overlays ----

    private void WriteOverlay(InstanceDefinition instance)
    {
        var directory = Path.Combine(output, "overlays", instance.LowerCode);
        var own = graph.Of(instance).ToList();
        var files = new List<(string File, IReadOnlyList<object> Objects)>
        {
            ("namespace.yaml", [new Map
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Namespace",
                ["metadata"] = new Map { ["name"] = PublishSettings.Namespace(instance), ["labels"] = new Map { [PartOfLabel] = PartOf, [NamespaceLabel] = instance.LowerCode } },
            }]),
        };
        // What only the hub runs (the shared store, monitoring): whole objects, not patches of base.
        foreach (var workload in own.Where(w => w.IsShared(Topology)))
        {
            files.Add(($"{workload.Service}.yaml", ObjectsOf(workload, withInstanceValues: true)));
        }
        var patches = new List<object>();
        Directory.CreateDirectory(directory);
        foreach (var workload in own.Where(w => !w.IsShared(Topology)))
        {
            var file = $"patch-{workload.Service}.yaml";
            File.WriteAllText(Path.Combine(directory, file), Yaml.Document(InstancePatch(workload)));
            patches.Add(new Map { ["path"] = file });
            patches.Add(new Map
            {
                ["target"] = new Map { ["kind"] = "Service", ["name"] = workload.Service },
                ["patch"] = Yaml.Document(workload.Ports.SelectMany((p, i) => new object[]
                {
                    new Map { ["op"] = "replace", ["path"] = $"/spec/ports/{i}/port", ["value"] = p.Port },
                    new Map { ["op"] = "replace", ["path"] = $"/spec/ports/{i}/targetPort", ["value"] = p.TargetPort },
                }).ToList()),
            });
            // The nation's container port (a backend listens on its planned port, HTTP_PORTS): probes, Service and the
            // scrape annotation follow it.
            var deploymentPatch = workload.Ports.Select((p, i) => (object)new Map
            {
                ["op"] = "replace", ["path"] = $"/spec/template/spec/containers/0/ports/{i}/containerPort", ["value"] = p.TargetPort,
            }).ToList();
            if (ScrapeAnnotations(workload) is { } scrape)
            {
                deploymentPatch.Add(new Map { ["op"] = "replace", ["path"] = "/spec/template/metadata/annotations/prometheus.io~1port", ["value"] = scrape["prometheus.io/port"] });
            }
            patches.Add(new Map
            {
                ["target"] = new Map { ["kind"] = "Deployment", ["name"] = workload.Service },
                ["patch"] = Yaml.Document(deploymentPatch),
            });
        }
        var generators = new List<object>
        {
            new Map { ["name"] = ValueTranslator.FederationConfigMap, ["envs"] = new List<object> { "federation.env" } },
        };
        File.WriteAllText(Path.Combine(directory, "federation.env"), FederationEnv(instance));
        foreach (var workload in own)
        {
            generators.AddRange(BindMountConfigMaps(workload, directory));
        }
        if (instance == Topology.Hub && own.Any(w => w.Kind == WorkloadKind.Monitoring))
        {
            generators.AddRange(MonitoringConfigMaps(directory));
        }
        var kustomization = new Map
        {
            ["namespace"] = PublishSettings.Namespace(instance),
            ["labels"] = new List<object> { new Map { ["pairs"] = new Map { [NamespaceLabel] = instance.LowerCode }, ["includeSelectors"] = false } },
            ["configMapGenerator"] = generators,
            ["patches"] = patches,
        };
        WriteKustomization(directory, files, kustomization, extraResources: ["../../base"]);
    }

    /// <summary>The nation's environment and arguments, exactly as the graph gives them, merged into base's container.</summary>
    private Map InstancePatch(Workload workload)
    {
        // The nation's own sizes (a Redis's limit follows its maxmemory).
        var container = new Map { ["name"] = workload.Service, ["resources"] = ResourcesOf(workload) };
        if (workload.Args.Count > 0)
        {
            container["args"] = workload.Args.Cast<object>().ToList();
        }
        if (workload.Env.Count > 0)
        {
            container["env"] = Env(workload.Env, ValueTranslator.SecretName, ValueTranslator.FederationConfigMap);
        }
        return new Map
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new Map { ["name"] = workload.Service },
            ["spec"] = new Map { ["template"] = new Map { ["spec"] = new Map { ["containers"] = new List<object> { container } } } },
        };
    }

    /// <summary>
    /// Addresses of the other nations' Services this nation uses (its backend's peers and realms, the hub's shared store;
    /// the hub's Prometheus also the backends it scrapes). Defaults: one cluster, every nation in its namespace. A nation
    /// deploying on its own cluster sets the hub's public names here (see docs/deployment.md).
    /// </summary>
    private string FederationEnv(InstanceDefinition instance)
    {
        var remote = graph.Of(instance).SelectMany(w => w.Env).Where(e => e.ConfigMapKey is not null).Select(e => e.ConfigMapKey!).Distinct().Order(StringComparer.Ordinal);
        var lines = new List<string>
        {
            $"# Addresses of other nations' services used by {instance.Code}. Defaults: the same cluster (namespace dive-<code>).",
            "# On separate clusters, set each to the public DNS name that nation gives you (see docs/deployment.md).",
        };
        foreach (var key in remote)
        {
            var resource = graph.Workloads.Single(w => ServiceNames.RemoteHostVariable(w.ResourceName) == key);
            lines.Add($"{key}={graph.Names.ClusterHost(resource.ResourceName)}");
        }
        return string.Join('\n', lines) + "\n";
    }

    // ---- one workload: Deployment, Service, volumes and its NetworkPolicy ----

    private IReadOnlyList<object> ObjectsOf(Workload workload, bool withInstanceValues)
    {
        var objects = new List<object>();
        var volumes = new List<Map>();
        var mounts = new List<Map>();
        foreach (var volume in workload.Volumes)
        {
            objects.Add(PersistentVolumeClaim(volume.Name, workload.Service, VolumeSize(workload)));
            volumes.Add(ClaimVolume("data", volume.Name));
            mounts.Add(Mount("data", volume.Path, readOnly: false));
        }
        if (workload.Kind == WorkloadKind.Sentinel)
        {
            volumes.Add(new Map { ["name"] = "data", ["emptyDir"] = new Map() });
            mounts.Add(Mount("data", "/data", readOnly: false));
            volumes.Add(SecretVolume("config", SharedStoreHa.SentinelSecret));
            mounts.Add(Mount("config", SharedStoreHa.SentinelConfigDirectory, readOnly: true));
        }
        foreach (var (volume, mount) in workload.Kind == WorkloadKind.Sentinel ? [] : GeneratedFileVolumes(workload).Concat(BindMountVolumes(workload)))
        {
            volumes.Add(volume);
            mounts.Add(mount);
        }
        var container = new Map
        {
            ["name"] = workload.Service,
            ["image"] = workload.Image,
        };
        if (workload.Entrypoint is { } entrypoint)
        {
            container["command"] = new List<object> { entrypoint };
        }
        if (withInstanceValues && workload.Args.Count > 0)
        {
            container["args"] = workload.Args.Cast<object>().ToList();
        }
        if (withInstanceValues && workload.Env.Count > 0)
        {
            container["env"] = Env(workload.Env, ValueTranslator.SecretName, ValueTranslator.FederationConfigMap);
        }
        container["ports"] = workload.Ports.Select(p => (object)new Map { ["name"] = p.Name, ["containerPort"] = p.TargetPort, ["protocol"] = "TCP" }).ToList();
        foreach (var (key, value) in Health(workload))
        {
            container[key] = value;
        }
        container["resources"] = ResourcesOf(workload);
        container["securityContext"] = new Map { ["allowPrivilegeEscalation"] = false, ["capabilities"] = new Map { ["drop"] = new List<object> { "NET_RAW" } } };
        container["volumeMounts"] = mounts.Cast<object>().ToList();
        objects.Add(Deployment(workload.Service, container, volumes, recreate: workload.Volumes.Count > 0, ScrapeAnnotations(workload)));
        objects.Add(Service(workload.Service, workload.Ports));
        objects.Add(PolicyOf(workload));
        return objects;
    }

    /// <summary>
    /// Who may connect: a Redis only from the clients the graph connects to it (its backend and the exporter; the shared
    /// store from every backend); the backends, Keycloak and Grafana from anywhere (they authenticate every request);
    /// Prometheus, Alertmanager and the exporter only from monitoring.
    /// </summary>
    private Map PolicyOf(Workload workload)
    {
        // By name: each nation's container listens on its own planned port (a backend's HTTP_PORTS), base has the hub's.
        var ports = workload.Ports.Select(p => p.Name).ToList();
        if (workload.Kind is WorkloadKind.Backend or WorkloadKind.Keycloak || workload.ResourceName == MonitoringNames.Grafana)
        {
            return AllowAll(workload.Service, ports);
        }
        if (workload.ResourceName is MonitoringNames.Alertmanager or MonitoringNames.RedisExporter or MonitoringNames.Prometheus)
        {
            return NetworkPolicy($"{workload.Service}-ingress", workload.Service, [Peer(MonitoringNames.Prometheus), Peer(MonitoringNames.Grafana)], ports);
        }
        // base is written once for every nation from the hub's workloads: its clients are found among the hub's.
        var candidates = workload.IsShared(Topology) ? graph.Workloads : graph.Of(Topology.Hub);
        var peers = candidates.Where(c => c.ConnectsTo.Contains(workload.ResourceName))
            .Select(client => client.IsShared(Topology) ? Peer(client.Service, HubNamespace)
                : client.Owner == workload.Owner || !workload.IsShared(Topology) ? Peer(client.Service)
                : AnyNation(client.Service))
            .Concat(workload.ExtraClients.Select(client => Peer(client)))
            .DistinctBy(Yaml.Document)
            .ToList();
        return NetworkPolicy($"{workload.Service}-ingress", workload.Service, peers, ports);
    }

    /// <summary>Pods named <paramref name="service"/> in every nation's namespace of this cluster (other clusters: docs/deployment.md).</summary>
    private static Map AnyNation(string service) => new()
    {
        ["podSelector"] = new Map { ["matchLabels"] = new Map { [NameLabel] = service } },
        ["namespaceSelector"] = new Map { ["matchLabels"] = new Map { [PartOfLabel] = PartOf } },
    };

    private static IEnumerable<(string, object)> Health(Workload workload)
    {
        var port = workload.Ports[0].Name;
        switch (workload.Kind)
        {
            case WorkloadKind.Backend:
                yield return ("readinessProbe", HttpProbe("/health/ready", port, 5, 3));
                yield return ("livenessProbe", HttpProbe("/health/live", port, 10, 6));
                yield return ("startupProbe", HttpProbe("/health/live", port, 2, 60));
                break;
            case WorkloadKind.Redis or WorkloadKind.Sentinel:
                yield return ("readinessProbe", TcpProbe(port, 5, 3));
                yield return ("livenessProbe", TcpProbe(port, 10, 6));
                break;
            case WorkloadKind.Keycloak:
                yield return ("readinessProbe", HttpProbe("/health/ready", KeycloakResource.ManagementEndpointName, 10, 3));
                yield return ("livenessProbe", HttpProbe("/health/live", KeycloakResource.ManagementEndpointName, 15, 6));
                yield return ("startupProbe", HttpProbe("/health/started", KeycloakResource.ManagementEndpointName, 5, 60));
                break;
            default:
                var path = workload.ResourceName switch
                {
                    MonitoringNames.Grafana => "/api/health",
                    MonitoringNames.RedisExporter => "/metrics",
                    _ => "/-/ready",
                };
                yield return ("readinessProbe", HttpProbe(path, port, 10, 3));
                yield return ("livenessProbe", HttpProbe(path, port, 20, 6));
                break;
        }
    }

    /// <summary>
    /// Requests and limits from what the bench measured (docs/benchmarks.md): a backend about 105 MB RSS, an idle
    /// redis-server about 12 MB; a Redis's limit leaves room above its maxmemory for AOF rewrites and buffers.
    /// </summary>
    private static Map ResourcesOf(Workload workload) => workload.Kind switch
    {
        WorkloadKind.Backend => Resources("100m", 160, 512),
        WorkloadKind.Redis => Resources("50m", 64, RedisLimitMi(workload.Store!.MaxMemory)),
        WorkloadKind.Keycloak => Resources("250m", 768, 1536),
        WorkloadKind.Sentinel => Resources("20m", 16, 64),
        _ => workload.ResourceName switch
        {
            MonitoringNames.Prometheus => Resources("100m", 256, 1024),
            MonitoringNames.Grafana => Resources("50m", 128, 512),
            _ => Resources("20m", 32, 128),
        },
    };

    public static int RedisLimitMi(string maxMemory)
    {
        var text = maxMemory.Trim().ToLowerInvariant();
        var factor = text.EndsWith("gb", StringComparison.Ordinal) ? 1024 : text.EndsWith("mb", StringComparison.Ordinal) ? 1 : 0;
        if (factor == 0 || !int.TryParse(text[..^2], out var amount))
        {
            return 512;
        }
        return (amount * factor * 3 / 2) + 64;
    }

    private static string VolumeSize(Workload workload) => workload.ResourceName switch
    {
        MonitoringNames.Prometheus => "10Gi",
        MonitoringNames.Alertmanager => "1Gi",
        _ => $"{Math.Max(1, RedisLimitMi(workload.Store?.MaxMemory ?? "512mb") * 4 / 1024)}Gi",
    };

    // ---- files the containers read ----

    /// <summary>Folders the AppHost fills with generated files: Secrets for passwords, ConfigMaps for configuration.</summary>
    private static IEnumerable<(Map, Map)> GeneratedFileVolumes(Workload workload)
    {
        foreach (var directory in workload.GeneratedFileDirectories)
        {
            var (volume, source) = workload.Kind == WorkloadKind.Redis
                ? ("acl", SecretVolume("acl", AclSecret(workload)))
                : workload.ResourceName switch
                {
                    MonitoringNames.RedisExporter => ("passwords", SecretVolume("passwords", ExporterPasswordsSecret)),
                    MonitoringNames.Grafana => ("admin", SecretVolume("admin", GrafanaAdminSecret)),
                    MonitoringNames.Prometheus => ("config", ConfigMapVolume("config", "prometheus-config")),
                    MonitoringNames.Alertmanager => ("config", ConfigMapVolume("config", "alertmanager-config")),
                    _ => throw new TopologyException($"{workload.ResourceName} writes files into {directory}: the Kubernetes publisher does not know where they come from."),
                };
            yield return (source, Mount(volume, directory, readOnly: true));
            if (workload.ResourceName == MonitoringNames.Prometheus)
            {
                // Beside the configuration, not inside it: a mount point inside a read-only ConfigMap volume cannot be created.
                yield return (ConfigMapVolume("rules", "prometheus-rules"), Mount("rules", PrometheusRulesDirectory, readOnly: true));
            }
        }
    }

    private const string PrometheusRulesDirectory = "/etc/prometheus/dive-rules";

    /// <summary>The Secret with a Redis's ACL file: one per instance Redis, one for all data nodes of the shared store.</summary>
    public static string AclSecret(Workload workload) =>
        workload.Store?.Kind == RedisKind.TokenStore ? $"{RedisStoreSpec.Blacklist.ResourceName}-acl" : $"{workload.Service}-acl";

    private static IEnumerable<(Map, Map)> BindMountVolumes(Workload workload) =>
        workload.BindMounts.Select((mount, index) =>
        {
            var name = BindMountConfigMapName(workload, index);
            return (ConfigMapVolume(name, name, Directory.Exists(mount.Source) ? BindMountItems(mount.Source!) : null),
                File.Exists(mount.Source)
                    ? new Map { ["name"] = name, ["mountPath"] = mount.Target, ["subPath"] = Path.GetFileName(mount.Source), ["readOnly"] = true }
                    : Mount(name, mount.Target, readOnly: true));
        });

    private static string BindMountConfigMapName(Workload workload, int index) => $"{workload.Service}-files-{index}";

    /// <summary>A folder's files as ConfigMap keys (sub-folders flattened with '_') and the items that restore the tree.</summary>
    private static List<(string Key, string Path)> BindMountItems(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(file => Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/'))
            .Select(relative => (relative.Replace('/', '_'), relative))
            .ToList();

    private IEnumerable<object> BindMountConfigMaps(Workload workload, string overlayDirectory)
    {
        var index = 0;
        foreach (var mount in workload.BindMounts)
        {
            var name = BindMountConfigMapName(workload, index++);
            var copy = Path.Combine(overlayDirectory, "files", name);
            Directory.CreateDirectory(copy);
            var files = new List<object>();
            if (File.Exists(mount.Source))
            {
                File.Copy(mount.Source!, Path.Combine(copy, Path.GetFileName(mount.Source!)), overwrite: true);
                files.Add($"files/{name}/{Path.GetFileName(mount.Source)}");
            }
            else
            {
                foreach (var (key, relative) in BindMountItems(mount.Source!))
                {
                    File.Copy(Path.Combine(mount.Source!, relative), Path.Combine(copy, key), overwrite: true);
                    files.Add($"files/{name}/{key}");
                }
            }
            yield return new Map { ["name"] = name, ["files"] = files };
        }
    }

    /// <summary>
    /// A backend's pod says where its metrics are, in the annotations every cluster Prometheus setup understands
    /// (kubernetes_sd pod role): on its own cluster a nation's Prometheus scrapes it, and the hub's federates from there
    /// (docs/deployment.md, "Monitoring across clusters"). Redis is scraped through the exporter, never directly.
    /// </summary>
    private static Map? ScrapeAnnotations(Workload workload) => workload.Kind == WorkloadKind.Backend
        ? new Map
        {
            ["prometheus.io/scrape"] = "true",
            ["prometheus.io/port"] = workload.Ports[0].TargetPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["prometheus.io/path"] = "/metrics",
        }
        : null;

    /// <summary>prometheus.yml from the same renderer and rules the AppHost uses, with the Services' addresses; alertmanager.yml likewise.</summary>
    private IEnumerable<object> MonitoringConfigMaps(string directory)
    {
        var files = Path.Combine(directory, "files");
        Directory.CreateDirectory(Path.Combine(files, "rules"));
        var redis = graph.Workloads.Where(w => w.Kind == WorkloadKind.Redis)
            .Select(w => new RedisScrapeTarget($"redis://{graph.Address(w)}", ScrapeInstance(w.Store!), w.Store!.TypeLabel)).ToList();
        var backends = graph.Workloads.Where(w => w.Kind == WorkloadKind.Backend)
            .Select(w => new BackendScrapeTarget(graph.Address(w), w.Owner.Code, w.Owner.RoleName)).ToList();
        File.WriteAllText(Path.Combine(files, "prometheus.yml"), PrometheusConfig.Render(
            monitoring.Settings.ScrapeInterval, $"{PrometheusRulesDirectory}/*.yml",
            $"{MonitoringNames.RedisExporter}:{PortOf(MonitoringNames.RedisExporter)}", $"{MonitoringNames.Alertmanager}:{PortOf(MonitoringNames.Alertmanager)}",
            redis, backends));
        var rules = new List<object>();
        foreach (var (name, text) in MonitoringRules.Load(monitoring.Paths.RulesSource, monitoring.Settings.AlertFor))
        {
            File.WriteAllText(Path.Combine(files, "rules", name), text);
            rules.Add($"files/rules/{name}");
        }
        File.WriteAllText(Path.Combine(files, "alertmanager.yml"), AlertmanagerConfig.Render(monitoring.Settings.WebhookUrl));
        yield return new Map { ["name"] = "prometheus-config", ["files"] = new List<object> { "files/prometheus.yml" } };
        yield return new Map { ["name"] = "prometheus-rules", ["files"] = rules };
        yield return new Map { ["name"] = "alertmanager-config", ["files"] = new List<object> { "files/alertmanager.yml" } };
    }

    /// <summary>The instance label of a Redis: its label (ISO3, blacklist); the shared store's replicas blacklist-replica-N.</summary>
    private static string ScrapeInstance(RedisStoreSpec store) =>
        store.Kind == RedisKind.TokenStore && store.ResourceName != RedisStoreSpec.Blacklist.ResourceName
            ? $"{store.Label}{store.ResourceName[RedisStoreSpec.Blacklist.ResourceName.Length..]}"
            : store.Label;

    private int PortOf(string resourceName) => graph.Workloads.Single(w => w.ResourceName == resourceName).Ports[0].Port;

    private static void WriteKustomization(string directory, IReadOnlyList<(string File, IReadOnlyList<object> Objects)> files, Map extra, IReadOnlyList<string>? extraResources = null)
    {
        Directory.CreateDirectory(directory);
        foreach (var (file, objects) in files)
        {
            File.WriteAllText(Path.Combine(directory, file), Yaml.Documents(objects));
        }
        var kustomization = new Map
        {
            ["apiVersion"] = "kustomize.config.k8s.io/v1beta1",
            ["kind"] = "Kustomization",
            ["resources"] = files.Select(f => (object)f.File).Concat(extraResources ?? []).ToList(),
        };
        foreach (var (key, value) in extra)
        {
            kustomization[key] = value;
        }
        File.WriteAllText(Path.Combine(directory, "kustomization.yaml"),
            "# Generated by `./dive publish kubernetes` from the AppHost's graph. Do not edit: publish again.\n" + Yaml.Document(kustomization));
    }
}

/// <summary>The monitoring settings and source files the AppHost itself uses.</summary>
public sealed record MonitoringInputs(MonitoringSettings Settings, MonitoringPaths Paths);
