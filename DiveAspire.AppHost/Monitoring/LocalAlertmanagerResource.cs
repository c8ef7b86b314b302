namespace Aspire.Hosting.ApplicationModel;

/// <summary>Alertmanager run from Debian's <c>prometheus-alertmanager</c> binary (process runtime).</summary>
public sealed class LocalAlertmanagerResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory)
{
    public const string HttpEndpointName = "http";

    public EndpointReference HttpEndpoint => field ??= new(this, HttpEndpointName);
}
