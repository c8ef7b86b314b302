using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Records every new trace while a service starts fewer than <c>tracesPerSecond</c> of them, and that many per second
/// beyond (a token bucket holding one second's budget, at least one trace). A trace is recorded or dropped whole: spans with a parent follow
/// their parent (<see cref="ParentBasedSampler"/> around this one).
/// </summary>
public sealed class TraceBudgetSampler : Sampler
{
    private static readonly SamplingResult Record = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);

    private readonly double _perSecond;
    private readonly double _capacity;
    private readonly Func<long> _timestamp;
    private readonly double _ticksPerSecond;
    private readonly Lock _lock = new();
    private double _tokens;
    private long _last;

    public TraceBudgetSampler(double tracesPerSecond) : this(tracesPerSecond, Stopwatch.GetTimestamp, Stopwatch.Frequency)
    {
    }

    /// <param name="timestamp">a monotonic clock in <paramref name="ticksPerSecond"/> (tests pass their own)</param>
    public TraceBudgetSampler(double tracesPerSecond, Func<long> timestamp, double ticksPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tracesPerSecond);
        _perSecond = tracesPerSecond;
        _capacity = Math.Max(1, tracesPerSecond);
        _timestamp = timestamp;
        _ticksPerSecond = ticksPerSecond;
        _tokens = _capacity;
        _last = timestamp();
        Description = $"TraceBudgetSampler{{{tracesPerSecond}/s}}";
    }

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        lock (_lock)
        {
            var now = _timestamp();
            _tokens = Math.Min(_capacity, _tokens + (now - _last) / _ticksPerSecond * _perSecond);
            _last = now;
            if (_tokens < 1)
            {
                return Drop;
            }
            _tokens--;
            return Record;
        }
    }
}
