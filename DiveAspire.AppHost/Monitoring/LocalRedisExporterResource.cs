namespace Aspire.Hosting.ApplicationModel;

/// <summary>One redis_exporter (Debian's <c>prometheus-redis-exporter</c>) scraping every Redis of the federation through <c>/scrape?target=</c> (process runtime).</summary>
public sealed class LocalRedisExporterResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory)
{
    public const string HttpEndpointName = "http";

    public EndpointReference HttpEndpoint => field ??= new(this, HttpEndpointName);
}
