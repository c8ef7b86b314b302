using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// Three backends (USA, ROU, BEL) log users out concurrently, one new user each time, until stopped: which logouts were
/// acknowledged (200), which refused (503), and when, relative to a fault the test injects.
/// </summary>
public sealed class ConcurrentRevokers : IAsyncDisposable
{
    public static readonly string[] Backends = ["usa", "rou", "bel"];

    private readonly FederationFixture _federation;
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<Task> _loops;

    private readonly Func<string, string> _mint;

    /// <summary><paramref name="backends"/> (default USA, ROU, BEL) revoke users of the hub realm, minted by <paramref name="mint"/>
    /// (default the development key; the container runtime's realms have their own).</summary>
    public ConcurrentRevokers(FederationFixture federation, IReadOnlyList<string>? backends = null, Func<string, string>? mint = null)
    {
        _federation = federation;
        _mint = mint ?? (user => federation.Mint("usa", user));
        _loops = [.. (backends ?? Backends).Select(code => Task.Run(() => LoopAsync(code)))];
    }

    /// <summary>Acknowledged logouts: the token (its jti and user are revoked) and when the request was sent.</summary>
    public ConcurrentBag<(string Token, TimeSpan SentAt)> Acknowledged { get; } = [];
    public ConcurrentBag<TimeSpan> Refused { get; } = [];

    /// <summary>Anything but 200 or 503 (a 500, a hang): always a defect.</summary>
    public ConcurrentBag<string> Unexpected { get; } = [];

    public TimeSpan Now => _clock.Elapsed;

    /// <summary>How long after <paramref name="fault"/> the first logout sent after it was acknowledged (null: none yet).</summary>
    public TimeSpan? FirstAcknowledgedAfter(TimeSpan fault) =>
        Acknowledged.Where(a => a.SentAt >= fault).Select(a => a.SentAt).DefaultIfEmpty(TimeSpan.MaxValue).Min() is var first && first != TimeSpan.MaxValue
            ? first - fault
            : null;

    public int AcknowledgedAfter(TimeSpan moment) => Acknowledged.Count(a => a.SentAt >= moment);

    private async Task LoopAsync(string code)
    {
        using var http = _federation.Backend(code);
        http.Timeout = TimeSpan.FromSeconds(30);
        while (!_stop.IsCancellationRequested)
        {
            var token = _mint($"ha-{code}-{Guid.NewGuid():N}"[..28]);
            var sentAt = Now;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
                request.Headers.Authorization = new("Bearer", token);
                using var response = await http.SendAsync(request, _stop.Token);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.OK:
                        Acknowledged.Add((token, sentAt));
                        break;
                    case HttpStatusCode.ServiceUnavailable:
                        Refused.Add(sentAt);
                        break;
                    default:
                        Unexpected.Add($"{code}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                        break;
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Unexpected.Add($"{code}: {ex.GetType().Name} {ex.Message}");
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        _stop.Dispose();
    }
}
