using DiveAspire.AppHost;
using DiveAspire.Cli.Connections;

namespace Aspire.Hosting;

public static class TlsClientsFileExtensions
{
    /// <summary>
    /// Tells the CLI which Redis speaks TLS and with which CA (<see cref="TlsClients"/>): <c>./dive redis ...</c> then
    /// connects over TLS validated against it, as the backends and the dashboard commands do.
    /// </summary>
    public static void WriteTlsClientsFile(this IDistributedApplicationBuilder builder, DiveOptions options)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return;
        }
        TlsClients.Write(options.DataPath, builder.Resources
            .Where(r => r.TlsCaCertificate() is not null)
            .ToDictionary(r => r.Name, r => r.TlsCaCertificate()!));
    }
}
