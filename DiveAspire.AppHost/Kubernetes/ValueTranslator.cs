using System.Globalization;
using DiveAspire.Topology;

namespace DiveAspire.AppHost.Kubernetes;

/// <summary>
/// Turns the values of a resource's arguments and environment (evaluated in publish mode) into Kubernetes strings. A
/// secret parameter becomes a variable read from the namespace's Secret (key = the parameter's name) and is used as
/// <c>$(VAR)</c>; an endpoint of a resource in the same namespace becomes its Service name and planned port; one of
/// another nation becomes <c>$(DIVE_HOST_...)</c>, read from the federation ConfigMap, so a nation deploying alone only
/// sets the other side's public addresses there.
/// </summary>
public sealed class ValueTranslator(ServiceNames names, InstanceDefinition owner)
{
    public const string SecretName = "dive-secrets";
    public const string FederationConfigMap = "dive-federation";

    private readonly List<WorkloadEnv> _helpers = [];
    private readonly List<IResource> _referenced = [];

    public IReadOnlyList<IResource> Referenced => _referenced;

    public async Task<List<string>> ArgsAsync(IResource resource, CancellationToken ct)
    {
        var args = new List<object>();
        var context = new CommandLineArgsCallbackContext(args, resource, ct) { ExecutionContext = new(DistributedApplicationOperation.Publish) };
        foreach (var annotation in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await annotation.Callback(context).ConfigureAwait(false);
        }
        var result = new List<string>();
        foreach (var arg in args)
        {
            result.Add(await RenderAsync(arg, ct).ConfigureAwait(false));
        }
        return result;
    }

    /// <summary>The environment, helper variables (secrets, remote hosts) first so that later values may use <c>$(VAR)</c>.</summary>
    public async Task<List<WorkloadEnv>> EnvironmentAsync(IResource resource, CancellationToken ct)
    {
        var env = new Dictionary<string, object>();
        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), resource, env, ct);
        foreach (var annotation in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await annotation.Callback(context).ConfigureAwait(false);
        }
        var values = new List<WorkloadEnv>();
        foreach (var (name, value) in env.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (IsOrchestratorOnly(name))
            {
                continue;
            }
            if (value is ParameterResource { Secret: true } secret)
            {
                values.Add(new WorkloadEnv(name, null, SecretKey: secret.Name));
                continue;
            }
            values.Add(new WorkloadEnv(name, await RenderAsync(value, ct).ConfigureAwait(false)));
        }
        return [.. _helpers, .. values];
    }

    /// <summary>What only the local orchestrator and dashboard use (OpenTelemetry export to the dashboard, DCP's launch settings).</summary>
    private static bool IsOrchestratorOnly(string name) =>
        name.StartsWith("OTEL_", StringComparison.Ordinal) || name.StartsWith("ASPIRE_", StringComparison.Ordinal)
        || name is "DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION" or "LOGGING__CONSOLE__FORMATTERNAME";

    public async Task<string> RenderAsync(object? value, CancellationToken ct) => value switch
    {
        null => "",
        string text => text,
        ParameterResource { Secret: true } secret => SecretVariable(secret.Name),
        ParameterResource parameter => await parameter.GetValueAsync(ct).ConfigureAwait(false) ?? "",
        EndpointReference endpoint => Endpoint(endpoint, EndpointProperty.Url),
        EndpointReferenceExpression expression => Endpoint(expression.Endpoint, expression.Property),
        ReferenceExpression expression => await FormatAsync(expression, ct).ConfigureAwait(false),
        ConnectionStringReference reference => await RenderAsync(reference.Resource.ConnectionStringExpression, ct).ConfigureAwait(false),
        IResourceWithConnectionString resource => await RenderAsync(resource.ConnectionStringExpression, ct).ConfigureAwait(false),
        _ => throw new TopologyException($"The Kubernetes publisher cannot translate a {value.GetType().Name} in {owner.Code}'s resources."),
    };

    private async Task<string> FormatAsync(ReferenceExpression expression, CancellationToken ct)
    {
        var parts = new object[expression.ValueProviders.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = await RenderAsync(expression.ValueProviders[i], ct).ConfigureAwait(false);
        }
        return string.Format(CultureInfo.InvariantCulture, expression.Format, parts);
    }

    private string SecretVariable(string parameterName)
    {
        var variable = "SECRET_" + parameterName.ToUpperInvariant().Replace('-', '_');
        if (!_helpers.Any(h => h.Name == variable))
        {
            _helpers.Add(new WorkloadEnv(variable, null, SecretKey: parameterName));
        }
        return $"$({variable})";
    }

    private string Endpoint(EndpointReference endpoint, EndpointProperty property)
    {
        var target = endpoint.Resource;
        _referenced.Add(target);
        var annotation = target.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == endpoint.EndpointName);
        var port = (annotation.Port ?? annotation.TargetPort ?? PublishedGraph.BackendContainerPort).ToString(CultureInfo.InvariantCulture);
        var host = Host(target.Name);
        return property switch
        {
            EndpointProperty.Host or EndpointProperty.IPV4Host => host,
            EndpointProperty.Port => port,
            EndpointProperty.TargetPort => (annotation.TargetPort ?? PublishedGraph.BackendContainerPort).ToString(CultureInfo.InvariantCulture),
            EndpointProperty.HostAndPort => $"{host}:{port}",
            EndpointProperty.Scheme => annotation.UriScheme,
            _ => $"{annotation.UriScheme}://{host}:{port}",
        };
    }

    private string Host(string resourceName)
    {
        if (names.OwnerOf(resourceName) == owner)
        {
            return names.ServiceOf(resourceName);
        }
        var variable = ServiceNames.RemoteHostVariable(resourceName);
        if (!_helpers.Any(h => h.Name == variable))
        {
            _helpers.Add(new WorkloadEnv(variable, null, ConfigMapKey: variable));
        }
        return $"$({variable})";
    }
}
