using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace DiveAspire.Bench;

/// <summary>
/// What the bench started (the AppHost, its own redis-server) is stopped when the bench is interrupted or terminated:
/// `await using` does not run on a signal, and a leftover app holds the fixed ports the next run needs.
/// </summary>
public static class StopOnSignal
{
    private static readonly ConcurrentDictionary<IAsyncDisposable, byte> Started = new();

    public static bool Interrupted { get; private set; }

    public static void Register(IAsyncDisposable started) => Started.TryAdd(started, 0);

    public static void Unregister(IAsyncDisposable started) => Started.TryRemove(started, out _);

    public static IDisposable[] Install() =>
        [PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop)];

    private static void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        Interrupted = true;
        Console.Error.WriteLine($"dive bench: {context.Signal}: stopping what it started ...");
        foreach (var started in Started.Keys)
        {
            try
            {
                started.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(60));
            }
            catch (AggregateException)
            {
                // Best effort: go on with the others.
            }
        }
        Environment.Exit(130);
    }
}
