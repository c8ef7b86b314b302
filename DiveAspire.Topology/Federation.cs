namespace DiveAspire.Topology;

/// <summary>Names shared by the AppHost, the backends and the CLI for the federation's identity.</summary>
public static class Federation
{
    /// <summary>The AppHost's user-secrets id; the CLI reads the generated secrets from there.</summary>
    public const string AppHostUserSecretsId = "dive-aspire-apphost-7d3f2c1e";

    /// <summary>Secret parameter holding the development signing key (process runtime only).</summary>
    public const string DevSigningKeyParameter = "dive-dev-signing-key";

    /// <summary>Secret parameter holding the federation key: backends sign the search-only credentials they send peers with it.</summary>
    public const string FederationKeyParameter = "dive-federation-key";

    public const string Audience = "dive-v3-backend";

    public static string Realm(Country country) => $"dive-v3-broker-{country.LowerCode}";

    /// <summary>
    /// The issuer of an instance's tokens: its Keycloak realm URL. Locally (both runtimes) the realm on this machine's
    /// planned HTTPS port; a deployment gives each realm's public URL (<c>Dive:Auth:Realms:&lt;code&gt;:Issuer</c>).
    /// </summary>
    public static string Issuer(Country country, string? configured = null) =>
        configured is { Length: > 0 } ? configured.TrimEnd('/') : $"https://localhost:{PortPlan.KeycloakHttps(country)}/realms/{Realm(country)}";

    /// <summary>The issuer of a realm served at <paramref name="keycloakBaseUrl"/> (e.g. https://keycloak.usa.example.org).</summary>
    public static string IssuerAt(Country country, string keycloakBaseUrl) => $"{keycloakBaseUrl.TrimEnd('/')}/realms/{Realm(country)}";
}
