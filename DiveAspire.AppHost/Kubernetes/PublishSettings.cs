using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;

namespace DiveAspire.AppHost.Kubernetes;

/// <summary>
/// What a deployment adds to the graph: the public domain under which each nation's realm is served, the backend
/// image, and whether the git-ignored secret files are written from the AppHost's user secrets.
/// <c>Dive:Publish:Domain</c> (default dive.example.org) gives realm URLs https://keycloak.&lt;code&gt;.&lt;domain&gt;;
/// <c>Dive:Realms:&lt;code&gt;:PublicUrl</c> overrides one realm's Keycloak URL.
/// </summary>
public sealed record PublishSettings(string Domain, string BackendImage, bool SecretsFromUserSecrets, IReadOnlyDictionary<string, string> RealmUrls)
{
    public const string DefaultDomain = "dive.example.org";
    public const string DefaultBackendImage = "dive-backend";

    public static string Namespace(InstanceDefinition instance) => $"dive-{instance.LowerCode}";

    public string RealmUrl(InstanceDefinition instance) => RealmUrls[instance.Code];

    public static PublishSettings From(IConfiguration config, DiveTopology topology)
    {
        var domain = config["Dive:Publish:Domain"] is { Length: > 0 } d ? d.Trim().TrimEnd('.') : DefaultDomain;
        if (!System.Text.RegularExpressions.Regex.IsMatch(domain, "^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"))
        {
            throw new TopologyException($"Dive:Publish:Domain must be a DNS name such as dive.example.org (got '{domain}').");
        }
        var secretsFrom = config["Dive:Publish:SecretsFrom"];
        if (secretsFrom is { Length: > 0 } && secretsFrom != "user-secrets")
        {
            throw new TopologyException($"--secrets-from must be user-secrets (got '{secretsFrom}').");
        }
        var urls = topology.Instances.ToDictionary(i => i.Code, i => RealmUrlFor(config, i, domain));
        return new PublishSettings(domain, config["Dive:Publish:BackendImage"] is { Length: > 0 } image ? image : DefaultBackendImage,
            secretsFrom == "user-secrets", urls);
    }

    /// <summary>A realm's public Keycloak URL: <c>Dive:Realms:&lt;code&gt;:PublicUrl</c>, else https://keycloak.&lt;code&gt;.&lt;domain&gt;.</summary>
    public static string RealmUrlFor(IConfiguration config, InstanceDefinition instance, string domain)
    {
        var configured = config[$"Dive:Realms:{instance.LowerCode}:PublicUrl"];
        if (configured is { Length: > 0 })
        {
            return Uri.TryCreate(configured, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && uri.AbsolutePath == "/"
                ? configured.TrimEnd('/')
                : throw new TopologyException($"Dive:Realms:{instance.LowerCode}:PublicUrl must be an https URL without a path (got '{configured}').");
        }
        return $"https://keycloak.{instance.LowerCode}.{domain}";
    }
}
