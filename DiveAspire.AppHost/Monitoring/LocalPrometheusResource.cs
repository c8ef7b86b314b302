namespace Aspire.Hosting.ApplicationModel;

/// <summary>Prometheus run from Debian's <c>prometheus</c> binary (process runtime).</summary>
public sealed class LocalPrometheusResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory)
{
    public const string HttpEndpointName = "http";

    public EndpointReference HttpEndpoint => field ??= new(this, HttpEndpointName);
}
