using DiveAspire.Cli.Tokens;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Connections;

/// <summary>
/// The bearer token for the backends' admin endpoints: <c>--token</c> or <c>DIVE_ADMIN_TOKEN</c> (container runtime,
/// a Keycloak token), else a short-lived dev token with role dive-admin signed with the AppHost's development key.
/// </summary>
public static class AdminToken
{
    public const string EnvironmentVariable = "DIVE_ADMIN_TOKEN";
    public const string SigningKeyVariable = "DIVE_DEV_SIGNING_KEY";

    public static string Resolve(DiveTopology topology, string? explicitToken)
    {
        if (explicitToken is { Length: > 0 })
        {
            return explicitToken;
        }
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnv)
        {
            return fromEnv;
        }
        var key = Environment.GetEnvironmentVariable(SigningKeyVariable) is { Length: > 0 } keyFromEnv
            ? keyFromEnv
            : AppHostSecrets.Parameter(Federation.DevSigningKeyParameter)
                ?? throw new CliException($"No admin token: pass --token or set {EnvironmentVariable} (container runtime), or run './dive up' once (process runtime) so the AppHost generates its development signing key ({SigningKeyVariable} overrides it).");
        return Mint(topology.Hub.Country, key);
    }

    public static string Mint(Country issuer, string signingKey) =>
        DevTokenMinter.Mint(new DevTokenMinter.Request(issuer, "dive-cli-operator", Ttl: TimeSpan.FromMinutes(5), Roles: ["dive-admin"]), signingKey);
}
