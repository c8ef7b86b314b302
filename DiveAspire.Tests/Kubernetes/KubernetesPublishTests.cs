using System.Text.Json.Nodes;
using Aspire.Hosting;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Kubernetes;

/// <summary>`./dive publish kubernetes`: what the AppHost's graph becomes on a cluster (issue 15).</summary>
public sealed class KubernetesPublishTests(PublishedManifestsFixture published) : IClassFixture<PublishedManifestsFixture>
{
    private static JsonObject Container(JsonObject deployment) => (JsonObject)deployment["spec"]!["template"]!["spec"]!["containers"]![0]!;

    private static Dictionary<string, JsonNode?> Env(JsonObject container) =>
        container["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => e!["value"] ?? e["valueFrom"]);

    [Fact]
    public void Every_overlay_builds_and_every_object_passes_the_schema()
    {
        Assert.Equal(published.Topology.Instances.Select(i => i.LowerCode).Order(), Directory.GetDirectories(Path.Combine(published.Output, "overlays")).Select(Path.GetFileName).Order()!);
        foreach (var (code, yaml) in published.Built)
        {
            var objects = KubernetesSchema.Documents(yaml);
            Assert.NotEmpty(objects);
            var problems = objects.SelectMany(KubernetesSchema.Problems).ToList();
            Assert.True(problems.Count == 0, $"overlay {code}:\n{string.Join('\n', problems)}");
            Assert.All(objects.Where(o => (string?)o["kind"] != "Namespace"), o => Assert.Equal($"dive-{code}", (string?)o["metadata"]!["namespace"]));
        }
    }

    [Fact]
    public void The_schema_check_refuses_an_unknown_field_a_wrong_type_and_a_missing_image()
    {
        var deployment = published.Object("rou", "Deployment", "backend");
        var unknown = (JsonObject)deployment.DeepClone();
        Container(unknown)["imagePullPolice"] = "Always";
        var wrongType = (JsonObject)deployment.DeepClone();
        Container(wrongType)["ports"]![0]!["containerPort"] = "eighty";
        var noImage = (JsonObject)deployment.DeepClone();
        Container(noImage).Remove("image");

        Assert.Empty(KubernetesSchema.Problems(deployment));
        Assert.Contains(KubernetesSchema.Problems(unknown), p => p.Contains("imagePullPolice", StringComparison.Ordinal));
        Assert.NotEmpty(KubernetesSchema.Problems(wrongType));
        Assert.Contains(KubernetesSchema.Problems(noImage), p => p.Contains("image is required", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Secrets_kustomizations_build_and_no_secret_value_is_in_any_file_outside_the_git_ignored_values()
    {
        var values = Path.Combine("secrets", "*", "values");
        foreach (var file in Directory.GetFiles(published.Output, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(published.Output, file);
            if (relative.Split(Path.DirectorySeparatorChar) is ["secrets", _, "values", ..])
            {
                continue;
            }
            var text = await File.ReadAllTextAsync(file);
            foreach (var secret in published.AllSecretValues)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{relative} contains a secret value");
            }
        }
        var gitIgnore = (await File.ReadAllLinesAsync(Path.Combine(published.Output, ".gitignore"))).ToList();
        Assert.Contains("secrets/*/values/", gitIgnore);
        // Merged into the .gitignore the output already had, not overwritten.
        Assert.Contains(PublishedManifestsFixture.ExistingGitIgnoreLine, gitIgnore);

        foreach (var instance in published.Topology.Instances)
        {
            var secrets = KubernetesSchema.Documents(await PublishedManifestsFixture.KustomizeAsync(Path.Combine(published.Output, "secrets", instance.LowerCode)));
            Assert.All(secrets, s => Assert.Empty(KubernetesSchema.Problems(s)));
            var dive = secrets.Single(s => (string?)s["metadata"]!["name"] == "dive-secrets");
            // The backend's own passwords, on its Redis and on the shared store, are in the nation's Secret.
            var keys = dive["data"]!.AsObject().Select(kv => kv.Key).ToList();
            Assert.Contains($"redis-password-{instance.LowerCode}-backend", keys);
            // A spoke's is its read-only user's: each nation runs on its own cluster and relays revocations to the hub.
            Assert.Contains($"redis-password-blacklist-backend-{instance.LowerCode}{(instance.Role == InstanceRole.Spoke ? RedisAcl.ReadOnlySuffix : "")}", keys);
            // Redis gets its passwords only as the ACL file (SHA-256 hashes), mounted from a Secret.
            var acl = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((string)secrets.Single(s => (string?)s["metadata"]!["name"] == "redis-acl")["data"]!["users.acl"]!));
            Assert.Contains("user backend on #", acl);
            Assert.DoesNotContain(published.Secrets.For(RedisAcl.Backend(RedisStoreSpec.ForInstance(instance), instance)), acl);
        }
    }

    [Fact]
    public async Task A_publish_that_fails_before_writing_the_secret_values_has_already_git_ignored_them()
    {
        var output = Directory.CreateTempSubdirectory("dive-k8s-failing-").FullName;
        try
        {
            // secrets/<hub> is a file: the hub's secret files cannot be written and the publish fails there.
            Directory.CreateDirectory(Path.Combine(output, "secrets"));
            await File.WriteAllTextAsync(Path.Combine(output, "secrets", published.Topology.Hub.LowerCode), "");
            var (code, _, _) = await published.PublishAsync(output);
            Assert.NotEqual(0, code);
            Assert.Contains("secrets/*/values/", await File.ReadAllLinesAsync(Path.Combine(output, ".gitignore")));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void Every_backend_pod_tells_a_cluster_prometheus_where_its_metrics_are_and_no_redis_pod_does()
    {
        foreach (var code in published.Built.Keys)
        {
            var backend = published.Object(code, "Deployment", "backend");
            var annotations = backend["spec"]!["template"]!["metadata"]!["annotations"]!;
            Assert.Equal("true", (string?)annotations["prometheus.io/scrape"]);
            Assert.Equal("/metrics", (string?)annotations["prometheus.io/path"]);
            Assert.Equal(((long)Container(backend)["ports"]![0]!["containerPort"]!).ToString(), (string?)annotations["prometheus.io/port"]);
            Assert.Null(published.Object(code, "Deployment", "redis")["spec"]!["template"]!["metadata"]!["annotations"]);
        }
    }

    [Fact]
    public void Passwords_reach_redis_only_through_the_mounted_acl_file()
    {
        foreach (var code in published.Built.Keys)
        {
            foreach (var redis in published.Objects(code).Where(o => (string?)o["kind"] == "Deployment" && ((string)o["metadata"]!["name"]!).StartsWith("redis", StringComparison.Ordinal) && (string)o["metadata"]!["name"]! != "redis-exporter" && !((string)o["metadata"]!["name"]!).Contains("sentinel", StringComparison.Ordinal)))
            {
                var container = Container(redis);
                Assert.Null(container["env"]);
                var args = string.Join(' ', container["args"]!.AsArray().Select(a => (string)a!));
                Assert.Contains("--aclfile /etc/dive-redis/users.acl", args);
                Assert.DoesNotContain("requirepass", args);
                var volumes = redis["spec"]!["template"]!["spec"]!["volumes"]!.AsArray();
                Assert.Contains(volumes, v => ((string?)v!["secret"]?["secretName"])?.EndsWith("-acl", StringComparison.Ordinal) == true);
            }
        }
    }

    [Fact]
    public void Each_overlay_carries_its_nations_namespace_ports_and_redis_settings_from_the_graph()
    {
        foreach (var instance in published.Topology.Instances)
        {
            var code = instance.LowerCode;
            var spec = RedisStoreSpec.ForInstance(instance);
            var service = published.Object(code, "Service", "redis");
            Assert.Equal(spec.HostPort, (long)service["spec"]!["ports"]![0]!["port"]!);
            Assert.Equal(PortPlan.Backend(instance.Country), (long)published.Object(code, "Service", "backend")["spec"]!["ports"]![0]!["port"]!);
            var args = string.Join(' ', Container(published.Object(code, "Deployment", "redis"))["args"]!.AsArray().Select(a => (string)a!));
            Assert.Contains($"--maxmemory {spec.MaxMemory} --maxmemory-policy {spec.MaxMemoryPolicy}", args);
            Assert.Contains("--appendfsync everysec", args);
            var env = Env(Container(published.Object(code, "Deployment", "backend")));
            Assert.Equal(instance.Code, (string?)env["Dive__InstanceCode"]);
            Assert.StartsWith($"redis:{spec.HostPort},user=backend,password=$(SECRET_", (string?)env["ConnectionStrings__cache"]);
            // The gen0 budget is part of what a backend needs to serve at its measured rate, on a cluster as locally.
            Assert.Equal(BackendGen0Budget.Value, (string?)env[BackendGen0Budget.Variable]);
        }
    }

    // Found by playing the manifests (KubePlayTests): base carries the hub's container port, and a spoke's backend listened
    // on its own HTTP_PORTS while its probes, Service and NetworkPolicy pointed at the hub's.
    [Fact]
    public void Each_nations_backend_listens_where_its_probes_service_and_network_policy_point()
    {
        foreach (var instance in published.Topology.Instances)
        {
            var code = instance.LowerCode;
            var container = Container(published.Object(code, "Deployment", "backend"));
            var http = container["ports"]!.AsArray().Single(p => (string?)p!["name"] == "http")!;
            Assert.Equal((string?)Env(container)["HTTP_PORTS"], ((long)http["containerPort"]!).ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal((long)http["containerPort"]!, (long)published.Object(code, "Service", "backend")["spec"]!["ports"]![0]!["targetPort"]!);
            foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
            {
                Assert.Equal("http", (string?)container[probe]!["httpGet"]!["port"]);
            }
            var policy = published.Object(code, "NetworkPolicy", "backend-ingress");
            Assert.Equal("http", (string?)policy["spec"]!["ingress"]![0]!["ports"]![0]!["port"]);
        }
    }

    // In a pod, clients come from other pods: a Redis or Sentinel bound to loopback (as the process runtime binds them)
    // would refuse every one. KubePlayTests shows the published ones serve other pods.
    [Fact]
    public void No_published_redis_or_sentinel_binds_loopback()
    {
        foreach (var code in published.Built.Keys)
        {
            foreach (var deployment in published.Objects(code).Where(o => (string?)o["kind"] == "Deployment"))
            {
                var container = Container(deployment);
                var command = string.Join(' ', (container["command"]?.AsArray() ?? []).Concat(container["args"]?.AsArray() ?? []).Select(a => (string?)a));
                Assert.DoesNotMatch(@"--bind\s+(127\.|localhost|::1)", command);
            }
        }
    }

    // Found by playing the manifests: a mount point inside a read-only ConfigMap or Secret volume cannot be created.
    [Fact]
    public void No_volume_is_mounted_inside_a_read_only_volume()
    {
        foreach (var code in published.Built.Keys)
        {
            foreach (var deployment in published.Objects(code).Where(o => (string?)o["kind"] == "Deployment"))
            {
                var mounts = Container(deployment)["volumeMounts"]!.AsArray().Select(m => ((string)m!["mountPath"]!, (bool?)m["readOnly"] == true)).ToList();
                Assert.All(mounts, inner => Assert.DoesNotContain(mounts, outer => outer.Item2 && inner.Item1.StartsWith(outer.Item1 + "/", StringComparison.Ordinal)));
            }
        }
    }

    [Fact]
    public void A_spoke_needs_only_the_hubs_addresses_and_runs_nothing_of_the_hub()
    {
        var spoke = published.Topology.Spokes[0].LowerCode;
        var names = published.Objects(spoke).Select(o => $"{o["kind"]}/{o["metadata"]!["name"]}").ToList();
        Assert.DoesNotContain(names, n => n.Contains("redis-blacklist", StringComparison.Ordinal) || n.Contains("prometheus", StringComparison.Ordinal));
        var env = Env(Container(published.Object(spoke, "Deployment", "backend")));
        // The shared store is reached through the hub's Sentinels, by addresses from the federation ConfigMap, never a fixed host.
        Assert.StartsWith(
            "$(DIVE_HOST_REDIS_BLACKLIST_SENTINEL_1):26379,$(DIVE_HOST_REDIS_BLACKLIST_SENTINEL_2):26380,$(DIVE_HOST_REDIS_BLACKLIST_SENTINEL_3):26381,serviceName=dive-blacklist,user=backend-",
            (string?)env["ConnectionStrings__blacklist"]);
        Assert.NotNull(env["DIVE_HOST_REDIS_BLACKLIST_SENTINEL_1"]!["configMapKeyRef"]);
        // Read-only on the shared store: its revocations go to the hub's backend, at the hub's public address.
        Assert.Contains($",user=backend-{spoke}{RedisAcl.ReadOnlySuffix},", (string?)env["ConnectionStrings__blacklist"]);
        Assert.Equal($"http://$(DIVE_HOST_BACKEND_{published.Topology.Hub.Code}):{PortPlan.Backend(published.Topology.Hub.Country)}", (string?)env["Dive__Revocation__Relay"]);
        // In-cluster http, as every address of the default manifests (Dive:Publish:HubBackendUrl=https://... for separate clusters).
        Assert.Equal("true", (string?)env["Dive__Revocation__AllowPlaintextRelay"]);
        var federation = File.ReadAllText(Path.Combine(published.Output, "overlays", spoke, "federation.env"));
        Assert.Contains($"DIVE_HOST_REDIS_BLACKLIST_SENTINEL_2=redis-blacklist-sentinel-2.dive-{published.Topology.Hub.LowerCode}.svc.cluster.local", federation);
        // Nothing the workloads run with names this machine (the realm file's development redirect URIs are realm data).
        var workloads = string.Join('\n', published.Objects(spoke).Where(o => (string?)o["kind"] != "ConfigMap").Select(o => o.ToJsonString()));
        Assert.DoesNotContain("localhost", workloads);
        // Publishing never includes the development signing key.
        Assert.DoesNotContain("DevSigningKey", string.Join('\n', published.Built.Values));
        Assert.DoesNotContain(published.Secrets.DevSigningKey, string.Join('\n', published.Built.Values));
        Assert.DoesNotContain("127.0.0.1", workloads);
    }

    [Fact]
    public void Realm_issuers_are_the_public_urls_and_keycloak_announces_the_same()
    {
        foreach (var instance in published.Topology.Instances)
        {
            var code = instance.LowerCode;
            var url = $"https://keycloak.{code}.{PublishedManifestsFixture.Domain}";
            Assert.Equal(url, (string?)Env(Container(published.Object(code, "Deployment", "keycloak")))["KC_HOSTNAME"]);
            foreach (var other in published.Topology.Instances)
            {
                var env = Env(Container(published.Object(other.LowerCode, "Deployment", "backend")));
                Assert.Equal($"{url}/realms/{Federation.Realm(instance.Country)}", (string?)env[$"Dive__Auth__Realms__{code}__Issuer"]);
            }
        }
    }

    [Fact]
    public void Every_redis_is_fenced_to_its_clients_and_every_container_has_probes_and_resources()
    {
        foreach (var code in published.Built.Keys)
        {
            var objects = published.Objects(code);
            Assert.Contains(objects, o => (string?)o["kind"] == "NetworkPolicy" && (string?)o["metadata"]!["name"] == "default-deny-ingress");
            var cache = Peers(published.Object(code, "NetworkPolicy", "redis-ingress"));
            Assert.Equal(["backend", "redis-exporter@dive-usa"], cache);
            foreach (var deployment in objects.Where(o => (string?)o["kind"] == "Deployment"))
            {
                var container = Container(deployment);
                Assert.NotNull(container["readinessProbe"]);
                Assert.NotNull(container["livenessProbe"]);
                Assert.NotNull(container["resources"]!["requests"]!["memory"]);
                Assert.NotNull(container["resources"]!["limits"]!["memory"]);
            }
            var backend = Container(published.Object(code, "Deployment", "backend"));
            Assert.Equal("/health/ready", (string?)backend["readinessProbe"]!["httpGet"]!["path"]);
            Assert.Equal("/health/live", (string?)backend["livenessProbe"]!["httpGet"]!["path"]);
        }
        var shared = Peers(published.Object("usa", "NetworkPolicy", "redis-blacklist-ingress"));
        Assert.Contains("backend@any dive-v3 namespace", shared);
        Assert.Contains("redis-exporter@dive-usa", shared);
        Assert.DoesNotContain(shared, p => p.StartsWith("keycloak", StringComparison.Ordinal) || p.StartsWith("prometheus", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_hub_runs_the_shared_store_as_the_ha_sentinel_topology()
    {
        var ha = BlacklistHighAvailability.Default;
        foreach (var node in ha.DataNodes)
        {
            Assert.Equal(node.HostPort, (long)published.Object("usa", "Service", node.ResourceName)["spec"]!["ports"]![0]!["port"]!);
            var args = string.Join(' ', Container(published.Object("usa", "Deployment", node.ResourceName))["args"]!.AsArray().Select(a => (string)a!));
            Assert.Contains("--appendfsync always --maxmemory 256mb --maxmemory-policy noeviction", args);
            // Cluster names, which a spoke's backend (another namespace) resolves when the Sentinels hand them out: short names
            // left ROU's backend unable to reach any node when the manifests were played (KubePlayTests).
            Assert.Contains($"--replica-announce-ip {node.ResourceName}.dive-usa.svc.cluster.local --replica-announce-port {node.HostPort}", args);
            // The replication settings are the topology's (BlacklistHighAvailability), not a copy in the publisher.
            Assert.Contains(string.Join(' ', ha.ReplicationArguments()), args);
            Assert.Equal(node != ha.InitialPrimary, args.Contains("--replicaof redis-blacklist.dive-usa.svc.cluster.local 6479", StringComparison.Ordinal));
            var peers = Peers(published.Object("usa", "NetworkPolicy", $"{node.ResourceName}-ingress"));
            Assert.Contains("redis-exporter@dive-usa", peers);
            Assert.Contains("backend@any dive-v3 namespace", peers);
            Assert.All(ha.Sentinels, s => Assert.Contains(s.ResourceName, peers));
        }
        foreach (var sentinel in ha.Sentinels)
        {
            Assert.Equal(sentinel.HostPort, (long)published.Object("usa", "Service", sentinel.ResourceName)["spec"]!["ports"]![0]!["port"]!);
            var args = string.Join(' ', Container(published.Object("usa", "Deployment", sentinel.ResourceName))["args"]!.AsArray().Select(a => (string)a!));
            Assert.Contains($"--sentinel announce-ip {sentinel.ResourceName}.dive-usa.svc.cluster.local --sentinel announce-port {sentinel.HostPort}", args);
        }
        var config = await File.ReadAllTextAsync(Path.Combine(published.Output, "secrets", "usa", "values", "sentinel.conf"));
        Assert.Contains("sentinel monitor dive-blacklist redis-blacklist.dive-usa.svc.cluster.local 6479 2", config);
        Assert.All(ha.SentinelMonitorLines("redis-blacklist.dive-usa.svc.cluster.local", ha.InitialPrimary.HostPort), line => Assert.Contains(line + "\n", config));
        Assert.Contains("sentinel auth-user dive-blacklist sentinel", config);
        Assert.Contains("user backend-rou-ro on #", config);
        Assert.Contains("user backend-usa on #", config);
        var replication = await File.ReadAllTextAsync(Path.Combine(published.Output, "secrets", "usa", "values", "replication.conf"));
        Assert.StartsWith("masteruser replication\nmasterauth ", replication);
    }

    /// <summary>A NetworkPolicy's allowed peers as "service" (same namespace), "service@namespace" or "service@any dive-v3 namespace".</summary>
    private static List<string> Peers(JsonObject policy) =>
        policy["spec"]!["ingress"]!.AsArray().SelectMany(rule => rule!["from"]!.AsArray()).Select(peer =>
        {
            var service = (string)peer!["podSelector"]!["matchLabels"]!["app.kubernetes.io/name"]!;
            var ns = peer["namespaceSelector"]?["matchLabels"];
            return ns is null ? service
                : ns["kubernetes.io/metadata.name"] is { } name ? $"{service}@{name}"
                : $"{service}@any dive-v3 namespace";
        }).Order(StringComparer.Ordinal).ToList();
}
