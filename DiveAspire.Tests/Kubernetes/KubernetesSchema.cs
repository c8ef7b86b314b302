using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DiveAspire.Tests.Kubernetes;

/// <summary>
/// Offline schema validation of Kubernetes objects (no cluster and no kubeconform here): each object is read into the
/// KubernetesClient model of its kind, which is generated from Kubernetes' own OpenAPI specification, refusing any field
/// the schema does not have and any value of the wrong type; then the fields the API server requires are checked.
/// </summary>
public static class KubernetesSchema
{
    private static readonly Dictionary<string, Type> Kinds = new(StringComparer.Ordinal)
    {
        ["v1/Namespace"] = typeof(V1Namespace),
        ["v1/Service"] = typeof(V1Service),
        ["v1/ConfigMap"] = typeof(V1ConfigMap),
        ["v1/Secret"] = typeof(V1Secret),
        ["v1/PersistentVolumeClaim"] = typeof(V1PersistentVolumeClaim),
        ["apps/v1/Deployment"] = typeof(V1Deployment),
        ["networking.k8s.io/v1/NetworkPolicy"] = typeof(V1NetworkPolicy),
    };

    /// <summary>
    /// A copy of KubernetesClient's own serializer options (its converters for quantities, int-or-string, dates) that
    /// refuses unknown fields. A copy: the shared options are frozen once anything (Aspire's DCP client) has used them.
    /// </summary>
    private static readonly JsonSerializerOptions Strict = new(
        typeof(KubernetesJson).GetFields(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)
            .Select(f => f.GetValue(null)).OfType<JsonSerializerOptions>().First())
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Every document of a multi-document YAML stream, as JSON (plain scalars typed as YAML 1.2 core does).</summary>
    public static List<JsonObject> Documents(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Where(d => d.RootNode is YamlMappingNode).Select(d => (JsonObject)ToJson(d.RootNode)!).ToList();
    }

    /// <summary>The problems of one object: empty when it is valid.</summary>
    public static List<string> Problems(JsonObject item)
    {
        var key = $"{item["apiVersion"]}/{item["kind"]}";
        var name = $"{item["kind"]} {item["metadata"]?["name"]}";
        if (!Kinds.TryGetValue(key, out var type))
        {
            return [$"{name}: unknown kind {key}"];
        }
        object model;
        try
        {
            model = JsonSerializer.Deserialize(item.ToJsonString(), type, Strict)!;
        }
        catch (JsonException json)
        {
            return [$"{name}: {json.Message}"];
        }
        return [.. Required(model).Select(p => $"{name}: {p}")];
    }

    /// <summary>The fields the OpenAPI specification marks required, for the kinds the publisher writes.</summary>
    private static IEnumerable<string> Required(object model)
    {
        if (model is IMetadata<V1ObjectMeta> { Metadata.Name: null or "" })
        {
            yield return "metadata.name is required";
        }
        switch (model)
        {
            case V1Deployment d:
                if (d.Spec?.Selector is null) yield return "spec.selector is required";
                if (d.Spec?.Template?.Spec?.Containers is not { Count: > 0 } containers) { yield return "spec.template.spec.containers is required"; yield break; }
                foreach (var c in containers)
                {
                    if (string.IsNullOrEmpty(c.Name)) yield return "container name is required";
                    if (string.IsNullOrEmpty(c.Image)) yield return $"container {c.Name}: image is required";
                    foreach (var p in c.Ports ?? []) if (p.ContainerPort is < 1 or > 65535) yield return $"container {c.Name}: containerPort out of range";
                    foreach (var e in c.Env ?? []) if (string.IsNullOrEmpty(e.Name)) yield return $"container {c.Name}: env name is required";
                    foreach (var m in c.VolumeMounts ?? []) if (string.IsNullOrEmpty(m.Name) || string.IsNullOrEmpty(m.MountPath)) yield return $"container {c.Name}: volumeMount name and mountPath are required";
                }
                var labels = d.Spec.Template.Metadata?.Labels ?? new Dictionary<string, string>();
                foreach (var (k, v) in d.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>())
                {
                    if (!labels.TryGetValue(k, out var value) || value != v) yield return $"selector {k}={v} does not match the pod template's labels";
                }
                foreach (var v in d.Spec.Template.Spec.Volumes ?? []) if (string.IsNullOrEmpty(v.Name)) yield return "volume name is required";
                break;
            case V1Service s:
                foreach (var p in s.Spec?.Ports ?? []) if (p.Port is < 1 or > 65535) yield return $"service port {p.Name} out of range";
                break;
            case V1NetworkPolicy n:
                if (n.Spec?.PodSelector is null) yield return "spec.podSelector is required";
                break;
            case V1PersistentVolumeClaim c:
                if (c.Spec?.Resources?.Requests is not { Count: > 0 }) yield return "spec.resources.requests is required";
                break;
        }
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain)
        {
            return JsonValue.Create(text);
        }
        return text switch
        {
            "" or "null" or "~" => null,
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => JsonValue.Create(n),
            _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && text.Any(char.IsDigit) && !text.Contains(':') => JsonValue.Create(d),
            _ => JsonValue.Create(text),
        };
    }
}
