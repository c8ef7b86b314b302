namespace Aspire.Hosting;

/// <summary>
/// Links shown next to a resource in the Aspire dashboard (and in <c>aspire describe</c>): the pages people open
/// first. Each link is built from the URL the dashboard already shows for the resource's http endpoint, so it follows
/// whatever port (planned, random, proxied or not) that endpoint ends up with.
/// </summary>
public static class DashboardLinks
{
    public static readonly string[] BackendPaths = ["/health/detailed", "/metrics"];
    public static readonly string[] PrometheusPaths = ["/targets", "/alerts"];

    /// <summary>A backend's detailed health report and its Prometheus metrics.</summary>
    public static IResourceBuilder<T> WithBackendLinks<T>(this IResourceBuilder<T> backend) where T : IResourceWithEndpoints =>
        backend.WithPageLinks("http", BackendPaths);

    /// <summary>Prometheus's scrape targets and alerts pages.</summary>
    public static IResourceBuilder<T> WithPrometheusLinks<T>(this IResourceBuilder<T> prometheus) where T : IResourceWithEndpoints =>
        prometheus.WithPageLinks("http", PrometheusPaths);

    private static IResourceBuilder<T> WithPageLinks<T>(this IResourceBuilder<T> resource, string endpointName, string[] paths)
        where T : IResourceWithEndpoints =>
        resource.WithUrls(context =>
        {
            var root = context.Urls.FirstOrDefault(u => u.Endpoint?.EndpointName == endpointName && u.Url.StartsWith("http", StringComparison.Ordinal));
            if (root is null)
            {
                return;
            }
            foreach (var path in paths)
            {
                context.Urls.Add(new ResourceUrlAnnotation { Url = root.Url.TrimEnd('/') + path, DisplayText = path, Endpoint = root.Endpoint });
            }
        });
}
