using DiveAspire.Topology;

namespace DiveAspire.Cli.Connections;

/// <summary>
/// Turns an instance code (or 'blacklist') into a Redis endpoint and password, and an instance into its backend URL.
/// Host ports come from the Topology; <c>--endpoint</c>, <c>DIVE_REDIS_ENDPOINT_&lt;LABEL&gt;</c> and
/// <c>DIVE_BACKEND_ENDPOINT_&lt;CODE&gt;</c> override them (tests point at randomised ports this way).
/// </summary>
public static class ConnectionResolver
{
    public const string LocalHost = "127.0.0.1";

    /// <summary>The Redis of <paramref name="spec"/> as <paramref name="user"/> (operator by default: reading needs no more).</summary>
    public static RedisTarget Redis(RedisStoreSpec spec, string? endpoint = null, SecretsSource secrets = SecretsSource.Local, string user = RedisAcl.OperatorUser)
    {
        var variable = RedisEndpointVariable(spec);
        var acl = user == RedisAcl.AdminUser ? RedisAcl.Admin(spec) : RedisAcl.Operator(spec);
        var (password, source) = PasswordResolver.Resolve(acl, secrets);
        var (host, port) = endpoint is { Length: > 0 }
            ? EndpointOverride.Parse(endpoint, "--endpoint")
            : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnv
                ? EndpointOverride.Parse(fromEnv, variable)
                // The HA shared store: whichever node its Sentinels name as primary (see SentinelPrimaryResolver).
                : spec.Kind == RedisKind.TokenStore && SentinelPrimaryResolver.Primary(spec, secrets) is { } primary
                    ? primary
                    : (LocalHost, spec.HostPort);
        return new RedisTarget(spec, host, port, acl.Name, password, source)
        {
            Admin = acl.Role == RedisUserRole.Admin ? null : () => Redis(spec, endpoint, secrets, RedisAcl.AdminUser),
            TlsCaCertificate = Environment.GetEnvironmentVariable(TlsClients.CaVariable(spec)) is { Length: > 0 } ca ? Path.GetFullPath(ca) : TlsClients.CaCertificateFor(spec),
        };
    }

    public static string RedisEndpointVariable(RedisStoreSpec spec) => $"DIVE_REDIS_ENDPOINT_{spec.Label.ToUpperInvariant()}";

    public static string BackendEndpointVariable(InstanceDefinition instance) => $"DIVE_BACKEND_ENDPOINT_{instance.Code}";

    public static Uri Backend(InstanceDefinition instance, string? endpoint = null)
    {
        var variable = BackendEndpointVariable(instance);
        var text = endpoint is { Length: > 0 } ? endpoint
            : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnv ? fromEnv
            : $"http://localhost:{PortPlan.Backend(instance.Country)}";
        // Without a scheme only host:port is taken (127.0.0.1:4000); "not-a-url" would otherwise become http://not-a-url/.
        var hasScheme = text.Contains("://", StringComparison.Ordinal);
        if (!Uri.TryCreate(hasScheme ? text : "http://" + text, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || uri.HostNameType == UriHostNameType.Unknown
            || (!hasScheme && (uri.IsDefaultPort || uri.AbsolutePath != "/")))
        {
            throw new CliException($"{(endpoint is { Length: > 0 } ? "--endpoint" : variable)} must be an http(s) URL such as http://127.0.0.1:4000 (got '{text}').", ExitCodes.Usage);
        }
        return uri;
    }
}
