using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using DiveAspire.AppHost.Tls;

namespace DiveAspire.AppHost.Backend;

/// <summary>
/// A backend reachable beyond loopback (<c>Dive:Backend:BindAddress</c>, process runtime, Kestrel on its own port) speaks
/// HTTPS there, with a certificate from the deployment's CA (<see cref="TlsSettings"/>, the shared store's too): peers and
/// joined spokes send bearer tokens to it. On loopback it stays plain http, which the AppHost's health checks, the
/// dashboard and local peers use. Kestrel gets the PEM paths only (<c>Kestrel:Certificates:Default</c>), never a key.
/// </summary>
public static class BackendHttps
{
    public static IResourceBuilder<BackendExecutableResource> WithHttpsBeyondLoopback(
        this IResourceBuilder<BackendExecutableResource> backend, IDistributedApplicationBuilder builder, DiveOptions options)
    {
        var bind = options.BackendBindAddress;
        if (BindAddress.IsLoopback(bind) || backend.GetEndpoint("http").EndpointAnnotation.IsProxied)
        {
            return backend;
        }
        var certificate = TlsSettings.From(builder.Configuration, options.DataPath).ServerCertificate(backend.Resource.Name, bind);
        var port = backend.GetEndpoint("http").Property(EndpointProperty.TargetPort);
        return backend
            .WithEnvironment(context =>
            {
                var urls = new ReferenceExpressionBuilder();
                urls.AppendFormatted(ReferenceExpression.Create($"http://localhost:{port}"));
                foreach (var address in ListenAddresses(bind))
                {
                    urls.AppendFormatted(ReferenceExpression.Create($";https://{UrlHost(address)}:{port}"));
                }
                context.EnvironmentVariables["ASPNETCORE_URLS"] = urls.Build();
            })
            .WithEnvironment("Kestrel__Certificates__Default__Path", certificate.CertificatePath)
            .WithEnvironment("Kestrel__Certificates__Default__KeyPath", certificate.KeyPath);
    }

    /// <summary>The addresses beyond loopback where the backend serves HTTPS: the bind address, or each address of the
    /// machine of that family for a wildcard (a wildcard would take loopback too, which stays plain http).</summary>
    public static IReadOnlyList<IPAddress> ListenAddresses(string bindAddress)
    {
        var bind = IPAddress.Parse(bindAddress);
        if (!BindAddress.IsEveryInterface(bindAddress))
        {
            return [bind];
        }
        return [.. NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(u => u.Address)
            .Where(a => !IPAddress.IsLoopback(a))
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork
                || (bind.AddressFamily == AddressFamily.InterNetworkV6 && a.AddressFamily == AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal))
            .Distinct()];
    }

    private static string UrlHost(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
}
