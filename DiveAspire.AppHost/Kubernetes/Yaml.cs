using YamlDotNet.Serialization;

namespace DiveAspire.AppHost.Kubernetes;

/// <summary>Writes maps and lists as YAML, quoting every string that YAML would otherwise read as another type ("true", "8080").</summary>
public static class Yaml
{
    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithQuotingNecessaryStrings()
        .DisableAliases()
        .Build();

    public static string Document(object value) => Serializer.Serialize(value);

    public static string Documents(IEnumerable<object> values) => string.Join("---\n", values.Select(Document));
}
