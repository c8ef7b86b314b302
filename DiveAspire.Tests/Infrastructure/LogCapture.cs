using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>
/// Keeps every log line of a test AppHost: its own and, through Aspire's forwarding, every resource's console output
/// (categories named after the resource). Tests scan it for secrets.
/// </summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, string Message)> _lines = new();

    public IReadOnlyList<(string Category, string Message)> Lines => _lines.ToArray();

    /// <summary>Each line as it is logged, on the logging thread (which waits for the handlers): category, message.</summary>
    public event Action<string, string>? Logged;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception) + (exception is null ? "" : "\n" + exception);
            capture._lines.Enqueue((category, message));
            capture.Logged?.Invoke(category, message);
        }
    }
}
