namespace Aspire.Hosting;

/// <summary>The Keycloak image every instance runs (one place to bump it).</summary>
internal static class KeycloakImageTags
{
    public const string Registry = "quay.io";
    public const string Image = "keycloak/keycloak";
    public const string Tag = "26.4";
}
