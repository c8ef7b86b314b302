namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A backend run straight from its build output instead of through <c>dotnet run</c>: no MSBuild evaluation at start
/// and no ~130 MB wrapper process per backend. Peers find it by service discovery exactly like a project resource.
/// </summary>
public sealed class BackendExecutableResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithServiceDiscovery;
