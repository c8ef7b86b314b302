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

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<(string, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lines.Enqueue((category, formatter(state, exception) + (exception is null ? "" : "\n" + exception)));
        }
    }
}
