using System.IO.Pipelines;
using DiveAspire.Backend.Redis;
using StackExchange.Redis;

namespace DiveAspire.Tests.Unit;

/// <summary>
/// Which exceptions count as "the Redis did not answer" (the backend goes on without it) and which stay bugs. What a
/// hung Redis really produces, end to end, is <see cref="Integration.HungCacheRedisTests"/>.
/// </summary>
public sealed class RedisFailuresTests
{
    [Fact]
    public void The_client_s_own_exceptions_and_timeouts_are_Redis_failures()
    {
        Assert.True(RedisFailures.Is(new RedisTimeoutException("timed out", CommandStatus.Sent)));
        Assert.True(RedisFailures.Is(new RedisConnectionException(ConnectionFailureType.SocketFailure, "lost")));
        Assert.True(RedisFailures.Is(new TimeoutException()));
    }

    [Fact]
    public async Task A_command_the_client_gave_up_on_is_a_Redis_failure_but_a_cancellation_someone_asked_for_is_not()
    {
        // StackExchange.Redis completes a command it could not send in time as canceled, without a token (TrySetCanceled()).
        var gaveUp = new TaskCompletionSource<RedisResult>();
        gaveUp.TrySetCanceled();
        var clientCanceled = await Assert.ThrowsAsync<TaskCanceledException>(() => gaveUp.Task);
        Assert.True(RedisFailures.Is(clientCanceled));

        // The request aborted or the host stopping: the caller's token is canceled, and that must still propagate.
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var asked = await Assert.ThrowsAsync<TaskCanceledException>(() => Task.Delay(1000, cts.Token));
        Assert.False(RedisFailures.Is(asked));
    }

    [Fact]
    public void A_cancellation_that_is_not_a_canceled_task_is_not_a_Redis_failure()
    {
        // Kestrel's "the connection was aborted": an OperationCanceledException without a token. It was taken for a Redis
        // outage (a 503, logged as "a Redis store did not answer").
        Assert.False(RedisFailures.Is(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("The connection was aborted by the application.")));
        Assert.False(RedisFailures.Is(new OperationCanceledException()));
    }

    [Fact]
    public async Task An_InvalidOperationException_that_is_not_the_Redis_connection_s_stays_a_bug()
    {
        // The same exception System.IO.Pipelines gave StackExchange.Redis's reader, thrown here by another pipe's reader.
        var pipe = new Pipe();
        var read = pipe.Reader.ReadAsync();
        await pipe.Writer.CompleteAsync();
        var buffer = (await read).Buffer;
        pipe.Reader.Complete();
        var elsewhere = Assert.Throws<InvalidOperationException>(() => pipe.Reader.AdvanceTo(buffer.End));
        Assert.Contains("reader was completed", elsewhere.Message, StringComparison.Ordinal);
        Assert.False(RedisFailures.Is(elsewhere));

        Assert.False(RedisFailures.Is(Record(() => throw new InvalidOperationException("a bug of ours"))));
        Assert.False(RedisFailures.Is(new ArgumentException("a bug of ours")));
        Assert.False(RedisFailures.Is(new NullReferenceException()));
    }

    private static Exception Record(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            return ex;
        }
        throw new InvalidOperationException("nothing was thrown");
    }
}
