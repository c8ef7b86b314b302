using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;

namespace DiveAspire.Tests.Unit;

public sealed class TraceBudgetSamplerTests
{
    private static SamplingDecision Sample(Sampler sampler) =>
        sampler.ShouldSample(new SamplingParameters(default, ActivityTraceId.CreateRandom(), "GET /api/resources", ActivityKind.Server)).Decision;

    [Fact]
    public void Every_trace_is_recorded_up_to_the_budget_then_that_many_per_second()
    {
        long now = 0;
        var sampler = new TraceBudgetSampler(10, () => now, ticksPerSecond: 1000);

        Assert.All(Enumerable.Range(0, 10), _ => Assert.Equal(SamplingDecision.RecordAndSample, Sample(sampler)));
        Assert.Equal(SamplingDecision.Drop, Sample(sampler));

        now += 100; // a tenth of a second earns one trace
        Assert.Equal(SamplingDecision.RecordAndSample, Sample(sampler));
        Assert.Equal(SamplingDecision.Drop, Sample(sampler));

        now += 60_000; // an idle minute earns one second's budget, no more
        Assert.Equal(10, Enumerable.Range(0, 20).Count(_ => Sample(sampler) == SamplingDecision.RecordAndSample));
    }

    [Theory]
    [InlineData(null, null, 100.0)]
    [InlineData("250", null, 250.0)]
    [InlineData("0.5", null, 0.5)]
    [InlineData("0", null, null)]
    [InlineData(null, "parentbased_traceidratio", null)]
    [InlineData("50", "always_on", null)]
    public void The_budget_is_configurable_and_the_standard_sampler_variable_wins(string? budget, string? otelSampler, double? expected)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [ServiceDefaultsExtensions.MaxTracesPerSecondKey] = budget,
            ["OTEL_TRACES_SAMPLER"] = otelSampler,
        }).Build();
        Assert.Equal(expected, ServiceDefaultsExtensions.MaxTracesPerSecond(config));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("lots")]
    [InlineData("NaN")]
    public void A_bad_budget_stops_the_start_with_the_setting_named(string budget)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [ServiceDefaultsExtensions.MaxTracesPerSecondKey] = budget }).Build();
        var error = Assert.Throws<InvalidOperationException>(() => ServiceDefaultsExtensions.MaxTracesPerSecond(config));
        Assert.Contains(ServiceDefaultsExtensions.MaxTracesPerSecondKey, error.Message, StringComparison.Ordinal);
    }
}
