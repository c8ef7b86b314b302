using System.Net;
using System.Net.Sockets;
using DiveAspire.Bench;

namespace DiveAspire.Tests.Bench;

/// <summary>The bench's wrk run and parser on a real wrk (Debian package, installed by ./dive) against a local HTTP listener.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WrkRunTests : IAsyncLifetime
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _serving = Task.CompletedTask;
    private Uri _base = null!;
    private int _withToken;

    public Task InitializeAsync()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        _base = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(_base.ToString());
        _listener.Start();
        _serving = Task.Run(ServeAsync);
        return Task.CompletedTask;
    }

    // 200 on /ok, 404 elsewhere; counts requests that carried the bearer token.
    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            if (context.Request.Headers["Authorization"] == "Bearer test-token")
            {
                Interlocked.Increment(ref _withToken);
            }
            context.Response.StatusCode = context.Request.Url!.AbsolutePath == "/ok" ? 200 : 404;
            context.Response.Close();
        }
    }

    [Fact]
    public async Task A_real_wrk_run_is_read_with_its_rate_latencies_and_its_non_2xx_responses()
    {
        var ok = await Wrk.RunAsync(new Uri(_base, "/ok"), "test-token", TimeSpan.FromSeconds(1));
        Assert.True(ok.Requests > 0, $"wrk completed no request: {ok}");
        Assert.True(ok.RequestsPerSecond > 0);
        Assert.True(ok.P50Ms > 0 && ok.P99Ms >= ok.P50Ms, $"latencies {ok.P50Ms} / {ok.P99Ms}");
        Assert.Equal(0, ok.Non2xx);
        Assert.True(_withToken >= ok.Requests, $"{_withToken} requests carried the token, wrk completed {ok.Requests}");

        var missing = await Wrk.RunAsync(new Uri(_base, "/missing"), token: null, TimeSpan.FromSeconds(1));
        Assert.True(missing.Non2xx > 0 && missing.Non2xx == missing.Requests, $"{missing.Non2xx} non-2xx of {missing.Requests}");
    }

    [Fact]
    public async Task A_paced_wrk_run_holds_the_rate_it_was_given_instead_of_saturating()
    {
        var saturated = await Wrk.RunAsync(new Uri(_base, "/ok"), "test-token", TimeSpan.FromSeconds(2));
        // Far below what the listener serves, so the pacing, not the server, sets the rate.
        var rate = Math.Min(200, saturated.RequestsPerSecond / 4);
        var paced = await Wrk.RunAsync(new Uri(_base, "/ok"), "test-token", TimeSpan.FromSeconds(3), rate);
        Assert.Equal(0, paced.Non2xx);
        Assert.True(paced.RequestsPerSecond > rate * 0.8 && paced.RequestsPerSecond < rate * 1.2,
            $"paced at {rate:F0} req/s, wrk achieved {paced.RequestsPerSecond:F0} (unpaced {saturated.RequestsPerSecond:F0})");
        Assert.True(_withToken >= saturated.Requests + paced.Requests, "the paced run's requests carry the token too");
    }

    public async Task DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        await _serving;
        _stop.Dispose();
    }
}
