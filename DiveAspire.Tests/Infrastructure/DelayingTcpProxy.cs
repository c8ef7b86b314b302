using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>
/// A TCP hop on loopback that forwards every byte to <c>127.0.0.1:upstreamPort</c> and back, each chunk
/// <paramref name="delay"/> later and in order: a distant link (e.g. a replica in another data centre) between two
/// local processes. Stops with Dispose.
/// </summary>
public sealed class DelayingTcpProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly int _upstreamPort;
    private readonly TimeSpan _delay;

    public DelayingTcpProxy(int upstreamPort, TimeSpan delay)
    {
        _upstreamPort = upstreamPort;
        _delay = delay;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var downstream = await _listener.AcceptTcpClientAsync(_stop.Token);
                var upstream = new TcpClient();
                await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token);
                _ = PumpAsync(downstream, upstream);
                _ = PumpAsync(upstream, downstream);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var chunks = Channel.CreateUnbounded<(DateTime Due, byte[] Data)>();
        var writer = Task.Run(async () =>
        {
            await foreach (var (due, data) in chunks.Reader.ReadAllAsync(_stop.Token))
            {
                if (due > DateTime.UtcNow)
                {
                    await Task.Delay(due - DateTime.UtcNow, _stop.Token);
                }
                await to.GetStream().WriteAsync(data, _stop.Token);
            }
        });
        try
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await from.GetStream().ReadAsync(buffer, _stop.Token)) > 0)
            {
                chunks.Writer.TryWrite((DateTime.UtcNow + _delay, buffer[..read]));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        chunks.Writer.TryComplete();
        try
        {
            await writer;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        from.Dispose();
        to.Dispose();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
