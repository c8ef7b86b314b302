using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DiveAspire.Backend.Health;

/// <summary>
/// Runs another health check and reports a failure as one line (the exception's type and first message line) instead of
/// the exception: the health check service logs each failed result with its exception, i.e. a stack trace on every
/// probe while a Redis is down, where one warning line says it all.
/// </summary>
public sealed class OneLineHealthCheck(IHealthCheck inner) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = await inner.CheckHealthAsync(context, cancellationToken);
        return result.Exception is not { } ex
            ? result
            : new HealthCheckResult(result.Status, result.Description ?? $"{ex.GetType().Name}: {ex.Message.Split('\n')[0].Trim()}", data: result.Data);
    }
}
