using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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

    [Fact]
    [Trait("Category", "Security")]
    public void A_callers_traceparent_neither_forces_nor_avoids_the_budget()
    {
        // Any unauthenticated client sends traceparent: "-01" must not make every request traced, "-00" must not hide it.
        var sampler = ServiceDefaultsExtensions.BudgetSampler(1);
        SamplingDecision Decide(ActivityTraceFlags flags) => sampler.ShouldSample(new SamplingParameters(
            new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), flags, isRemote: true),
            ActivityTraceId.CreateRandom(), "GET /api/resources", ActivityKind.Server)).Decision;

        Assert.Equal(SamplingDecision.RecordAndSample, Decide(ActivityTraceFlags.None));
        var forced = Enumerable.Range(0, 50).Count(_ => Decide(ActivityTraceFlags.Recorded) == SamplingDecision.RecordAndSample);
        Assert.InRange(forced, 0, 2);
    }

    [Fact]
    public void A_budget_below_one_per_second_records_one_trace_per_period()
    {
        long now = 0;
        var sampler = new TraceBudgetSampler(0.5, () => now, ticksPerSecond: 1000);
        Assert.Equal(SamplingDecision.RecordAndSample, Sample(sampler));
        Assert.Equal(SamplingDecision.Drop, Sample(sampler));
        now += 1_000;
        Assert.Equal(SamplingDecision.Drop, Sample(sampler));
        now += 1_000;
        Assert.Equal(SamplingDecision.RecordAndSample, Sample(sampler));
    }

    [Theory]
    [InlineData(null, null, 10.0)]
    [InlineData("250", null, 250.0)]
    [InlineData("0.5", null, 0.5)]
    [InlineData("0", null, null)]
    [InlineData(null, "always_on", 10.0)]
    [InlineData("50", "always_on", 50.0)]
    [InlineData("0", "parentbased_traceidratio", null)]
    public void The_budget_is_configurable_and_applies_whatever_the_standard_sampler_variable_says(string? budget, string? otelSampler, double? expected)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [ServiceDefaultsExtensions.MaxTracesPerSecondKey] = budget,
            ["OTEL_TRACES_SAMPLER"] = otelSampler,
        }).Build();
        Assert.Equal(expected, ServiceDefaultsExtensions.MaxTracesPerSecond(config));
    }

    /// <summary>Aspire sets OTEL_TRACES_SAMPLER=always_on for every process it runs: the budget must still apply.</summary>
    [Theory]
    [InlineData("0.001", 1)]
    [InlineData("0", 5)]
    public void The_budget_applies_under_Aspire_s_always_on(string budget, int recorded)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["OTEL_TRACES_SAMPLER"] = "always_on";
        builder.Configuration[ServiceDefaultsExtensions.MaxTracesPerSecondKey] = budget;
        builder.AddServiceDefaults();
        using var host = builder.Build();
        _ = host.Services.GetRequiredService<TracerProvider>();
        using var source = new ActivitySource(builder.Environment.ApplicationName);

        var traces = Enumerable.Range(0, 5).Select(_ =>
        {
            using var activity = source.StartActivity("GET /api/resources", ActivityKind.Server, parentContext: default);
            return activity?.Recorded == true;
        }).ToList();
        Assert.Equal(recorded, traces.Count(r => r));
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
