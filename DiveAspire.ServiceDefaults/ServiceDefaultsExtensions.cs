using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>What every DIVE service gets: OpenTelemetry to the Aspire dashboard, service discovery, resilient HTTP clients.</summary>
public static class ServiceDefaultsExtensions
{
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    private static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation())
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddAspNetCoreInstrumentation(options =>
                    options.Filter = context => !context.Request.Path.StartsWithSegments("/health")
                        && !context.Request.Path.StartsWithSegments("/metrics"))
                .AddHttpClientInstrumentation());
        if (MaxTracesPerSecond(builder.Configuration) is { } budget)
        {
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.SetSampler(BudgetSampler(budget)));
        }

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>
    /// Default of <see cref="MaxTracesPerSecondKey"/>: every trace of a developer's requests (up to 10 at once, 10 a second),
    /// a handful a second under load. Each recorded request exports 3 spans (the request, its HGETALL and EVALSHA) that the
    /// Aspire dashboard ingests: at 100 a second it spent 14-17 us of CPU per request on the full path at about 10,000
    /// req/s, at 5 a second 3 us, without any export 2-4 (docs/benchmarks.md, "Session 9: telemetry").
    /// </summary>
    public const int DefaultMaxTracesPerSecond = 10;

    public const string MaxTracesPerSecondKey = "Dive:Telemetry:MaxTracesPerSecond";

    /// <summary>
    /// How many new traces per second a service records: every one up to this rate, this many per second beyond (metrics
    /// and logs still count every request). Tracing each request and exporting it to the dashboard cost about a quarter of
    /// the backend's CPU on its full request path under load. 0: no budget, the SDK's sampler decides (the standard
    /// <c>OTEL_TRACES_SAMPLER</c>, which Aspire sets to <c>always_on</c> for every process it runs). A sampler set here
    /// takes precedence over <c>OTEL_TRACES_SAMPLER</c>, so the budget applies under Aspire too. Null: no budget.
    /// </summary>
    public static double? MaxTracesPerSecond(IConfiguration config)
    {
        var text = config[MaxTracesPerSecondKey];
        if (string.IsNullOrWhiteSpace(text))
        {
            return DefaultMaxTracesPerSecond;
        }
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var perSecond) || perSecond < 0 || !double.IsFinite(perSecond))
        {
            throw new InvalidOperationException($"{MaxTracesPerSecondKey} must be a number of traces per second, 0 for every trace (got '{text}').");
        }
        return perSecond == 0 ? null : perSecond;
    }

    /// <summary>
    /// The budget decides for every trace that starts here, including one whose remote caller says "sampled" or "not
    /// sampled" in its traceparent: any unauthenticated client sends that header, and obeying it would let a client force
    /// every request traced (the cost the budget caps) or keep its requests out of the traces.
    /// </summary>
    public static Sampler BudgetSampler(double maxTracesPerSecond)
    {
        var budget = new TraceBudgetSampler(maxTracesPerSecond);
        return new ParentBasedSampler(budget, remoteParentSampled: budget, remoteParentNotSampled: budget);
    }
}
