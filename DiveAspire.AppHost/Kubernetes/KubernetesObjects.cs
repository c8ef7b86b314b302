using System.Globalization;

namespace DiveAspire.AppHost.Kubernetes;

/// <summary>A Kubernetes object as ordered maps and lists, serialized to YAML by <see cref="Yaml"/>.</summary>
public sealed class Map : Dictionary<string, object?>
{
    public Map() : base(StringComparer.Ordinal) { }
}

/// <summary>Builders for the few Kubernetes kinds the publisher writes. Every label set selects by app.kubernetes.io/name.</summary>
public static class KubernetesObjects
{
    public const string NameLabel = "app.kubernetes.io/name";
    public const string PartOfLabel = "app.kubernetes.io/part-of";
    public const string PartOf = "dive-v3";

    public static Map Labels(string service) => new() { [NameLabel] = service, [PartOfLabel] = PartOf };

    public static Map Metadata(string name, string? service = null) => new() { ["name"] = name, ["labels"] = Labels(service ?? name) };

    public static Map Service(string name, IEnumerable<WorkloadPort> ports) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Service",
        ["metadata"] = Metadata(name),
        ["spec"] = new Map
        {
            ["selector"] = new Map { [NameLabel] = name },
            ["ports"] = ports.Select(p => (object)new Map { ["name"] = p.Name, ["port"] = p.Port, ["targetPort"] = p.TargetPort, ["protocol"] = "TCP" }).ToList(),
        },
    };

    public static Map PersistentVolumeClaim(string name, string service, string size) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "PersistentVolumeClaim",
        ["metadata"] = Metadata(name, service),
        ["spec"] = new Map
        {
            ["accessModes"] = new List<object> { "ReadWriteOnce" },
            ["resources"] = new Map { ["requests"] = new Map { ["storage"] = size } },
        },
    };

    public static Map Deployment(string name, Map container, IReadOnlyList<Map> volumes, bool recreate, Map? podAnnotations = null) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = Metadata(name),
        ["spec"] = new Map
        {
            ["replicas"] = 1,
            // A Redis or Prometheus with a ReadWriteOnce volume cannot run twice at once: stop the old pod first.
            ["strategy"] = new Map { ["type"] = recreate ? "Recreate" : "RollingUpdate" },
            ["selector"] = new Map { ["matchLabels"] = new Map { [NameLabel] = name } },
            ["template"] = new Map
            {
                ["metadata"] = podAnnotations is null ? new Map { ["labels"] = Labels(name) } : new Map { ["labels"] = Labels(name), ["annotations"] = podAnnotations },
                ["spec"] = new Map
                {
                    ["automountServiceAccountToken"] = false,
                    ["enableServiceLinks"] = false,
                    ["containers"] = new List<object> { container },
                    ["volumes"] = volumes.Cast<object>().ToList(),
                },
            },
        },
    };

    public static Map ConfigMapVolume(string volume, string configMap, IEnumerable<(string Key, string Path)>? items = null)
    {
        var source = new Map { ["name"] = configMap };
        if (items is not null)
        {
            source["items"] = items.Select(i => (object)new Map { ["key"] = i.Key, ["path"] = i.Path }).ToList();
        }
        return new Map { ["name"] = volume, ["configMap"] = source };
    }

    public static Map SecretVolume(string volume, string secret) =>
        new() { ["name"] = volume, ["secret"] = new Map { ["secretName"] = secret, ["defaultMode"] = 0x100 /* 0400 */ } };

    public static Map ClaimVolume(string volume, string claim) =>
        new() { ["name"] = volume, ["persistentVolumeClaim"] = new Map { ["claimName"] = claim } };

    public static Map Mount(string volume, string path, bool readOnly) =>
        new() { ["name"] = volume, ["mountPath"] = path, ["readOnly"] = readOnly };

    public static Map HttpProbe(string path, string port, int periodSeconds, int failureThreshold) => new()
    {
        ["httpGet"] = new Map { ["path"] = path, ["port"] = port },
        ["periodSeconds"] = periodSeconds,
        ["timeoutSeconds"] = 3,
        ["failureThreshold"] = failureThreshold,
    };

    public static Map TcpProbe(string port, int periodSeconds, int failureThreshold) => new()
    {
        ["tcpSocket"] = new Map { ["port"] = port },
        ["periodSeconds"] = periodSeconds,
        ["timeoutSeconds"] = 3,
        ["failureThreshold"] = failureThreshold,
    };

    public static Map Resources(string cpuRequest, int memoryRequestMi, int memoryLimitMi) => new()
    {
        ["requests"] = new Map { ["cpu"] = cpuRequest, ["memory"] = Mi(memoryRequestMi) },
        ["limits"] = new Map { ["memory"] = Mi(memoryLimitMi) },
    };

    public static string Mi(int value) => value.ToString(CultureInfo.InvariantCulture) + "Mi";

    public static List<object> Env(IEnumerable<WorkloadEnv> env, string secretName, string configMapName) =>
        env.Select(e => (object)(e switch
        {
            { SecretKey: { } key } => new Map
            {
                ["name"] = e.Name,
                ["valueFrom"] = new Map { ["secretKeyRef"] = new Map { ["name"] = secretName, ["key"] = key } },
            },
            { ConfigMapKey: { } key } => new Map
            {
                ["name"] = e.Name,
                ["valueFrom"] = new Map { ["configMapKeyRef"] = new Map { ["name"] = configMapName, ["key"] = key } },
            },
            _ => new Map { ["name"] = e.Name, ["value"] = e.Value ?? "" },
        })).ToList();

    /// <summary>Ingress to pods of <paramref name="target"/> only from the listed peers, on the listed ports.</summary>
    public static Map NetworkPolicy(string name, string target, IEnumerable<Map> peers, IEnumerable<string> ports) => new()
    {
        ["apiVersion"] = "networking.k8s.io/v1",
        ["kind"] = "NetworkPolicy",
        ["metadata"] = Metadata(name, target),
        ["spec"] = new Map
        {
            ["podSelector"] = new Map { ["matchLabels"] = new Map { [NameLabel] = target } },
            ["policyTypes"] = new List<object> { "Ingress" },
            ["ingress"] = new List<object>
            {
                new Map
                {
                    ["from"] = peers.Cast<object>().ToList(),
                    ["ports"] = ports.Select(p => (object)new Map { ["protocol"] = "TCP", ["port"] = p }).ToList(),
                },
            },
        },
    };

    /// <summary>A peer: pods named <paramref name="service"/> in this namespace, or in the namespace <paramref name="ofNamespace"/>.</summary>
    public static Map Peer(string service, string? ofNamespace = null)
    {
        var peer = new Map { ["podSelector"] = new Map { ["matchLabels"] = new Map { [NameLabel] = service } } };
        if (ofNamespace is not null)
        {
            peer["namespaceSelector"] = new Map { ["matchLabels"] = new Map { ["kubernetes.io/metadata.name"] = ofNamespace } };
        }
        return peer;
    }

    /// <summary>Every pod of the namespace refuses ingress unless a policy above allows it.</summary>
    public static Map DefaultDenyIngress() => new()
    {
        ["apiVersion"] = "networking.k8s.io/v1",
        ["kind"] = "NetworkPolicy",
        ["metadata"] = new Map { ["name"] = "default-deny-ingress", ["labels"] = new Map { [PartOfLabel] = PartOf } },
        ["spec"] = new Map { ["podSelector"] = new Map(), ["policyTypes"] = new List<object> { "Ingress" } },
    };

    /// <summary>Ingress to <paramref name="target"/> from anywhere on its ports (the backend API, Keycloak, Grafana: authenticated or public).</summary>
    public static Map AllowAll(string target, IEnumerable<string> ports) => new()
    {
        ["apiVersion"] = "networking.k8s.io/v1",
        ["kind"] = "NetworkPolicy",
        ["metadata"] = Metadata($"{target}-ingress", target),
        ["spec"] = new Map
        {
            ["podSelector"] = new Map { ["matchLabels"] = new Map { [NameLabel] = target } },
            ["policyTypes"] = new List<object> { "Ingress" },
            ["ingress"] = new List<object>
            {
                new Map { ["ports"] = ports.Select(p => (object)new Map { ["protocol"] = "TCP", ["port"] = p }).ToList() },
            },
        },
    };
}
