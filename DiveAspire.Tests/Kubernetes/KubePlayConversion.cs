using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DiveAspire.Tests.Kubernetes;

/// <summary>One Deployment as played: its pod's fixed address and the readiness probe the manifest gives it.</summary>
public sealed record PlayedWorkload(string Code, string Name, string Deployment, IPAddress Address, string? ProbePath, int ProbePort)
{
    public string Pod => $"{Deployment}-pod-0";
    public string Container => $"{Pod}-{Name}";
    public override string ToString() => $"{Name} ({Code}, {Address})";
}

/// <summary>
/// Turns the published overlays (<c>kubectl kustomize</c> output) into what Debian's Podman 4.3 can play, changing only
/// what a Kubernetes cluster would provide and Podman does not:
/// <list type="bullet">
/// <item>Kinds: Deployments, ConfigMaps and PVCs are played. Not played: Services (Podman has none: each pod gets a
/// fixed address, every Service name resolves to its pod through <c>hostAliases</c>, and where a Service maps its port to
/// another target port the Redis in that pod listens on the Service's port instead, as kube-proxy would make it look),
/// NetworkPolicies (Podman has none), the Namespace (pods are prefixed per run instead) and Deployments whose image has
/// no stand-in here (<paramref name="leftOut"/>: Keycloak, Grafana).</item>
/// <item>Secrets: a <c>secret:</c> volume makes Podman 4.3 panic, so each Secret of the secrets kustomization (from the
/// git-ignored values the publish wrote) is played as a ConfigMap of the same content, never written to the repository.</item>
/// <item>Dependent environment variables (<c>$(NAME)</c>): Podman 4.3 does not expand them; expanded here as Kubernetes
/// does (only variables defined earlier in the list; a reference to a later one fails the conversion).</item>
/// <item>Container ports and probes: Podman 4.3 publishes every <c>containerPort</c> on the host's 0.0.0.0 (which would
/// collide with the machine's port plan) and runs probes only as systemd health checks: both are removed from what is
/// played, and the test evaluates each readiness probe itself against the pod's address.</item>
/// <item>Volumes of pods: Podman 4.3 makes one volume of a ConfigMap for all pods mounting it and writes its files again
/// (truncate, then write) for each pod it plays, so a pod reading them at that moment reads an empty or cut file (a
/// Sentinel copied a sentinel.conf without its ACL users); and it makes one volume of all emptyDirs named alike (the
/// Sentinels shared one /data). Each pod gets its own, as in Kubernetes: a copy of the ConfigMap, and its emptyDir, named
/// after its Deployment.</item>
/// </list>
/// </summary>
public sealed partial class KubePlayConversion
{
    private const string NameLabel = "app.kubernetes.io/name";
    private readonly string _prefix;
    private readonly Dictionary<string, List<JsonObject>> _overlays;
    private readonly Dictionary<string, List<JsonObject>> _secrets;
    private readonly HashSet<string> _leftOut;

    public KubePlayConversion(string prefix, string subnet, Dictionary<string, List<JsonObject>> overlays, Dictionary<string, List<JsonObject>> secrets, IEnumerable<string> leftOut)
    {
        _prefix = prefix;
        _overlays = overlays;
        _secrets = secrets;
        _leftOut = [.. leftOut];
        Assert.EndsWith(".0/24", subnet);
        var network = subnet[..^".0/24".Length];
        var index = 10;
        foreach (var (code, objects) in overlays)
        {
            foreach (var deployment in Of(objects, "Deployment").Where(d => !_leftOut.Contains(NameOf(d))))
            {
                var name = NameOf(deployment);
                Workloads.Add(new PlayedWorkload(code, name, $"{prefix}-{code}-{name}", IPAddress.Parse($"{network}.{index++}"), null, 0));
            }
        }
    }

    public List<PlayedWorkload> Workloads { get; } = [];

    public PlayedWorkload Workload(string code, string name) => Workloads.Single(w => w.Code == code && w.Name == name);

    /// <summary>Every named volume the played YAML creates (PVCs and the volumes Podman makes of ConfigMaps and emptyDirs).</summary>
    public List<string> Volumes { get; } = [];

    /// <summary>The YAML to play for one overlay; <paramref name="environment"/> overrides variables by Deployment name.</summary>
    public string Convert(string code, Func<string, IReadOnlyDictionary<string, string>> environment)
    {
        var objects = _overlays[code];
        var configMaps = new Dictionary<string, JsonObject>();
        foreach (var configMap in Of(objects, "ConfigMap"))
        {
            configMaps[NameOf(configMap)] = Renamed(configMap, Scoped(code, NameOf(configMap)));
        }
        foreach (var secret in Of(_secrets[code], "Secret"))
        {
            configMaps[NameOf(secret)] = SecretAsConfigMap(secret, Scoped(code, NameOf(secret)));
        }
        var played = new List<JsonObject>();
        foreach (var claim in Of(objects, "PersistentVolumeClaim"))
        {
            played.Add(Renamed(claim, Scoped(code, NameOf(claim))));
            Volumes.Add(Scoped(code, NameOf(claim)));
        }
        foreach (var deployment in Of(objects, "Deployment").Where(d => !_leftOut.Contains(NameOf(d))))
        {
            var ownConfigMaps = new List<JsonObject>();
            var converted = Deployment(code, deployment, configMaps, environment(NameOf(deployment)), ownConfigMaps);
            played.AddRange(ownConfigMaps);
            played.Add(converted);
        }
        return string.Join("---\n", played.Select(o => o.ToJsonString() + "\n"));
    }

    private JsonObject Deployment(string code, JsonObject original, Dictionary<string, JsonObject> configMaps, IReadOnlyDictionary<string, string> overrides,
        List<JsonObject> ownConfigMaps)
    {
        var name = NameOf(original);
        var workload = Workload(code, name);
        var deployment = Renamed(original, workload.Deployment);
        var pod = (JsonObject)deployment["spec"]!["template"]!["spec"]!;
        var container = (JsonObject)Assert.Single(pod["containers"]!.AsArray())!;
        ListenOnServicePorts(code, name, container);
        var probe = container["readinessProbe"]?.AsObject() ?? throw new Xunit.Sdk.XunitException($"{name} ({code}) has no readiness probe");
        var probePort = PortOf(container, (string)(probe["httpGet"] ?? probe["tcpSocket"])!["port"]!);
        var index = Workloads.IndexOf(workload);
        Workloads[index] = workload with { ProbePath = (string?)probe["httpGet"]?["path"], ProbePort = probePort };
        foreach (var field in new[] { "ports", "readinessProbe", "livenessProbe", "startupProbe" })
        {
            container.Remove(field);
        }
        container["env"] = Environment(code, name, container["env"]?.AsArray() ?? [], configMaps, overrides);
        foreach (var volume in pod["volumes"]?.AsArray().Select(v => v!.AsObject()) ?? [])
        {
            if (volume["secret"] is JsonObject secret)
            {
                volume.Remove("secret");
                volume["configMap"] = new JsonObject { ["name"] = (string)secret["secretName"]!, ["defaultMode"] = secret["defaultMode"]?.DeepClone() };
            }
            if (volume["configMap"] is JsonObject configMap)
            {
                // A ConfigMap (and so a volume) of the pod's own: see "Volumes of pods" above.
                var source = (string)configMap["name"]!;
                var own = $"{workload.Deployment}-{source}";
                ownConfigMaps.Add(Renamed(configMaps.GetValueOrDefault(source)
                    ?? throw new Xunit.Sdk.XunitException($"{name} ({code}): a volume mounts {source}, which neither the overlay nor the secrets define"), own));
                configMap["name"] = own;
                Volumes.Add(own);
            }
            if (volume["persistentVolumeClaim"] is JsonObject claim)
            {
                claim["claimName"] = Scoped(code, (string)claim["claimName"]!);
            }
            if (volume["emptyDir"] is not null)
            {
                // An emptyDir of the pod's own, as in Kubernetes: see "Volumes of pods" above.
                var own = $"{workload.Deployment}-{(string)volume["name"]!}";
                foreach (var mount in container["volumeMounts"]?.AsArray().Select(m => m!.AsObject()).Where(m => (string?)m["name"] == (string?)volume["name"]) ?? [])
                {
                    mount["name"] = own;
                }
                volume["name"] = own;
                Volumes.Add(own);
            }
        }
        pod["hostAliases"] = HostAliases(code);
        return deployment;
    }

    /// <summary>What kube-proxy provides: a Service's port reaches the pod. Without Services the Redis listens on it.</summary>
    private void ListenOnServicePorts(string code, string name, JsonObject container)
    {
        foreach (var service in ServicesOf(code, name))
        {
            foreach (var port in service["spec"]!["ports"]!.AsArray().Select(p => p!.AsObject()))
            {
                var servicePort = Int(port["port"]);
                var target = port["targetPort"]!.GetValueKind() == System.Text.Json.JsonValueKind.Number
                    ? Int(port["targetPort"]) : PortOf(container, (string)port["targetPort"]!);
                if (servicePort == target)
                {
                    continue;
                }
                var args = container["args"]?.AsArray();
                Assert.True(args is [_, JsonValue] && ((string)args[1]!).Contains("redis-server", StringComparison.Ordinal),
                    $"{name} ({code}): Service port {servicePort} -> {target}; only a Redis can be moved to its Service's port here");
                args![1] = $"{(string)args[1]!} --port {servicePort}";
                var containerPort = container["ports"]!.AsArray().Select(p => p!.AsObject()).Single(p => Int(p["containerPort"]) == target);
                containerPort["containerPort"] = servicePort;
            }
        }
    }

    private JsonArray Environment(string code, string name, JsonArray env, Dictionary<string, JsonObject> configMaps, IReadOnlyDictionary<string, string> overrides)
    {
        var values = new Dictionary<string, string>();
        var result = new JsonArray();
        foreach (var variable in env.Select(e => e!.AsObject()))
        {
            var key = (string)variable["name"]!;
            string value;
            if (overrides.TryGetValue(key, out var overridden))
            {
                value = overridden;
            }
            else if (variable["valueFrom"] is JsonObject from)
            {
                var reference = (from["secretKeyRef"] ?? from["configMapKeyRef"])!.AsObject();
                var configMap = configMaps.GetValueOrDefault((string)reference["name"]!)
                    ?? throw new Xunit.Sdk.XunitException($"{name} ({code}): {key} refers to {reference["name"]}, which neither the overlay nor the secrets define");
                value = (string?)configMap["data"]?[(string)reference["key"]!]
                    ?? throw new Xunit.Sdk.XunitException($"{name} ({code}): {key} refers to the missing key {reference["key"]} of {reference["name"]}");
            }
            else
            {
                value = Reference().Replace((string?)variable["value"] ?? "", match => values.TryGetValue(match.Groups[1].Value, out var earlier)
                    ? earlier
                    : throw new Xunit.Sdk.XunitException($"{name} ({code}): {key} uses $({match.Groups[1].Value}), which is not defined before it (Kubernetes would leave it unexpanded)"));
            }
            values[key] = value;
            result.Add(new JsonObject { ["name"] = key, ["value"] = value });
        }
        foreach (var (key, value) in overrides.Where(o => !values.ContainsKey(o.Key)))
        {
            result.Add(new JsonObject { ["name"] = key, ["value"] = value });
        }
        return result;
    }

    /// <summary>Every played Service's names: its short name within its namespace, its cluster names everywhere.</summary>
    private JsonArray HostAliases(string code)
    {
        var aliases = new JsonArray();
        foreach (var (serviceCode, objects) in _overlays)
        {
            foreach (var service in Of(objects, "Service"))
            {
                var target = (string)service["spec"]!["selector"]![NameLabel]!;
                if (Workloads.SingleOrDefault(w => w.Code == serviceCode && w.Name == target) is not { } workload)
                {
                    continue;
                }
                var name = NameOf(service);
                var names = new JsonArray($"{name}.dive-{serviceCode}.svc.cluster.local", $"{name}.dive-{serviceCode}.svc", $"{name}.dive-{serviceCode}");
                if (serviceCode == code)
                {
                    names.Insert(0, name);
                }
                aliases.Add(new JsonObject { ["ip"] = workload.Address.ToString(), ["hostnames"] = names });
            }
        }
        return aliases;
    }

    private IEnumerable<JsonObject> ServicesOf(string code, string deployment) =>
        Of(_overlays[code], "Service").Where(s => (string?)s["spec"]!["selector"]![NameLabel] == deployment);

    private static int PortOf(JsonObject container, string port) => int.TryParse(port, out var number)
        ? number
        : Int(container["ports"]!.AsArray().Single(p => (string?)p!["name"] == port)!["containerPort"]);

    private static int Int(JsonNode? number) => int.Parse(number!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);

    private static JsonObject SecretAsConfigMap(JsonObject secret, string name)
    {
        var data = new JsonObject();
        foreach (var (key, value) in secret["data"]?.AsObject() ?? [])
        {
            data[key] = Encoding.UTF8.GetString(System.Convert.FromBase64String((string)value!));
        }
        foreach (var (key, value) in secret["stringData"]?.AsObject() ?? [])
        {
            data[key] = (string)value!;
        }
        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = name }, ["data"] = data };
    }

    private static JsonObject Renamed(JsonObject item, string name)
    {
        var copy = item.DeepClone().AsObject();
        copy["metadata"]!.AsObject().Remove("namespace");
        copy["metadata"]!["name"] = name;
        return copy;
    }

    private string Scoped(string code, string name) => $"{_prefix}-{code}-{name}";

    private static string NameOf(JsonObject item) => (string)item["metadata"]!["name"]!;

    private static IEnumerable<JsonObject> Of(IEnumerable<JsonObject> objects, string kind) => objects.Where(o => (string?)o["kind"] == kind);

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex Reference();
}
