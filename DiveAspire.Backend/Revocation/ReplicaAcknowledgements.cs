using System.Collections.Concurrent;
using System.Net;
using StackExchange.Redis;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// WAIT for the revocation writes of the HA shared store, shared between concurrent revocations. A WAIT counts the
/// replicas that hold every write its connection sent before it, so one WAIT acknowledges every revocation whose script
/// had completed on that connection when the WAIT was sent. A revocation therefore waits for at most two WAITs (the one
/// in flight when its script completed, then the next, sent for everyone who arrived meanwhile) instead of one WAIT per
/// revocation queued ahead of it: with both replicas 50 ms away, 32 concurrent revocations waited about 1.7 s each
/// (a 503 at the 2 s command timeout) one WAIT after another. What is acknowledged is unchanged: a revocation is
/// acknowledged only by a WAIT sent after its own script completed.
/// </summary>
internal sealed class ReplicaAcknowledgements
{
    private readonly ConcurrentDictionary<EndPoint, Round> _rounds = new();

    /// <summary>How many replicas hold every write sent on <paramref name="server"/>'s connection before this call (WAIT).</summary>
    public Task<long> WaitAsync(IServer server, int replicas, TimeSpan timeout) =>
        _rounds.GetOrAdd(server.EndPoint, _ => new Round()).WaitAsync(server, replicas, timeout);

    /// <summary>One node's WAITs: at most one in flight, and the next shared by everyone who asked while it was.</summary>
    private sealed class Round
    {
        private readonly Lock _gate = new();
        private bool _inFlight;
        private TaskCompletionSource<long>? _next;

        public Task<long> WaitAsync(IServer server, int replicas, TimeSpan timeout)
        {
            var first = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                if (_inFlight)
                {
                    // The WAIT in flight may have been sent before this write: join the next one, sent when it returns.
                    return (_next ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                }
                _inFlight = true;
            }
            _ = RunAsync(server, replicas, timeout, first);
            return first.Task;
        }

        private async Task RunAsync(IServer server, int replicas, TimeSpan timeout, TaskCompletionSource<long> waiters)
        {
            while (true)
            {
                try
                {
                    waiters.SetResult((long)await server.ExecuteAsync("WAIT", replicas, (long)timeout.TotalMilliseconds));
                }
                catch (Exception ex)
                {
                    // Every waiter of this round gets the failure (a 503 each), none is left waiting.
                    waiters.SetException(ex);
                }
                lock (_gate)
                {
                    if (_next is null)
                    {
                        _inFlight = false;
                        return;
                    }
                    waiters = _next;
                    _next = null;
                }
            }
        }
    }
}
