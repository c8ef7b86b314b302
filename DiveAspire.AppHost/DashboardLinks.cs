namespace Aspire.Hosting;

/// <summary>
/// Links shown next to a resource in the Aspire dashboard (and in <c>aspire describe</c>): the pages people open
/// first. Each link is built from the URL the dashboard already shows for the resource's http endpoint, so it follows
/// whatever port (planned, random, proxied or not) that endpoint ends up with.
/// </summary>
public static class DashboardLinks
{
    public static readonly string[] BackendPaths = ["/health/detailed", "/metrics"];

    /// <summary>
    /// Debian's prometheus package (process runtime) is built without the React UI: its pages are under /classic/
    /// (/targets is a 404 there). The official image (container runtime) serves the React UI at /targets and /alerts.
    /// </summary>
    public static string[] PrometheusPaths(bool debianPackage) =>
        debianPackage ? ["/classic/targets", "/classic/alerts"] : ["/targets", "/alerts"];

    /// <summary>A backend's detailed health report and its Prometheus metrics.</summary>
    public static IResourceBuilder<T> WithBackendLinks<T>(this IResourceBuilder<T> backend) where T : IResourceWithEndpoints =>
        backend.WithPageLinks("http", BackendPaths);

    /// <summary>Prometheus's scrape targets and alerts pages.</summary>
    public static IResourceBuilder<T> WithPrometheusLinks<T>(this IResourceBuilder<T> prometheus, bool debianPackage) where T : IResourceWithEndpoints =>
        prometheus.WithPageLinks("http", PrometheusPaths(debianPackage));

    private static IResourceBuilder<T> WithPageLinks<T>(this IResourceBuilder<T> resource, string endpointName, IEnumerable<string> paths)
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
                context.Urls.Add(new ResourceUrlAnnotation { Url = root.Url.TrimEnd('/') + path, DisplayText = path.Replace("/classic/", "/", StringComparison.Ordinal), Endpoint = root.Endpoint });
            }
        });
}
