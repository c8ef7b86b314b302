using StackExchange.Redis;

namespace DiveAspire.Backend.Redis;

/// <summary>
/// What a Redis command's task can end with when the Redis does not answer (down, hung, or the connection being torn
/// down and rebuilt): every code path that goes on without its Redis (memory windows, uncached decisions, a 503)
/// catches exactly these, and nothing else (a bug in our own code still surfaces as one).
/// </summary>
/// <remarks>
/// StackExchange.Redis (2.13) does not always wrap what it gives up on in a <see cref="RedisException"/>. Seen with a
/// SIGSTOPped Redis under request load (<c>HungCacheRedisTests</c>):
/// <list type="bullet">
/// <item>a command it could not write in time, or that found no connection, ends canceled: a
/// <see cref="TaskCanceledException"/> with no canceled token behind it (unlike a cancellation a caller asked for);</item>
/// <item>when the connection to the hung server is torn down while its reader is between two reads, the reader throws
/// <c>InvalidOperationException: Reading is not allowed after reader was completed.</c> (System.IO.Pipelines, from
/// <c>PhysicalConnection.ReadFromPipe</c>), and every command still awaiting a reply on that connection is failed with
/// that very exception once the connection is no longer the current one. Under load that includes the limiter
/// monitor's PING, whose exception then escaped the monitor and stopped the host (the backend exited with code 0).</item>
/// </list>
/// </remarks>
public static class RedisFailures
{
    /// <summary>The frame of StackExchange.Redis's socket reader and writer, where a torn connection's pipe exceptions come from.</summary>
    private const string ConnectionFrame = "StackExchange.Redis.PhysicalConnection.";

    public static bool Is(Exception ex) => ex switch
    {
        RedisException or TimeoutException => true,
        // Canceled by the client itself (a task it canceled: TaskCanceledException); a cancellation someone asked for (the
        // request aborted, the host stopping) has its token canceled. Any other cancellation without a token, such as
        // Kestrel's ConnectionAbortedException (the client's connection gone), is not the Redis's doing.
        TaskCanceledException canceled => !canceled.CancellationToken.IsCancellationRequested,
        InvalidOperationException => ex.StackTrace?.Contains(ConnectionFrame, StringComparison.Ordinal) == true,
        _ => false,
    };
}
