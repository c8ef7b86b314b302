using DiveAspire.Cli.Connections;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Operations;

/// <summary>Checks of one backend shared by <c>dive health</c> and the hub and spoke verifications.</summary>
internal static class BackendChecks
{
    /// <summary>GET /health/ready: 200 when the backend can serve (healthy or degraded), 503 when unhealthy.</summary>
    public static async Task<(bool, string)> ReadyAsync(InstanceDefinition instance, CancellationToken ct)
    {
        var uri = ConnectionResolver.Backend(instance);
        using var probe = new HttpProbe();
        var answer = await probe.GetAsync(new Uri(uri, "/health/ready"), ct: ct).ConfigureAwait(false);
        var where = $"{instance.BackendResourceName} ({uri.GetLeftPart(UriPartial.Authority)})";
        return (answer.Ok, answer.Status is null ? $"{where}: {answer.Error}" : $"{where}: /health/ready {answer.Status} {answer.Field("status") ?? ""}".TrimEnd());
    }
}
