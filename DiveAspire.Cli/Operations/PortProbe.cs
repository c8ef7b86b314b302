using System.Net.Sockets;

namespace DiveAspire.Cli.Operations;

/// <summary>Whether something accepts TCP connections at a URL's host and port (no request is sent).</summary>
public static class PortProbe
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    public static async Task<bool> AnswersAsync(Uri url, CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(url.Host, url.Port, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }
}
