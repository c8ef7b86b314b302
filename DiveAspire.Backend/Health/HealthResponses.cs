namespace DiveAspire.Backend.Health;

// The JSON bodies of the health endpoints (camelCase on the wire: WireJson).

public sealed record LiveResponse(string Status, DateTimeOffset Timestamp);

public sealed record ReadyResponse(string Status, string Instance);

/// <summary><c>/health</c> and <c>/health/detailed</c>: each dependency is its status name, or a <see cref="DependencyDetail"/> when detailed.</summary>
public sealed record HealthResponse(string Status, string Instance, string Role, DateTimeOffset Timestamp, Dictionary<string, object> Dependencies);

public sealed record DependencyDetail(string Status, string? Description, double DurationMs, IReadOnlyDictionary<string, object> Data);

public sealed record RedisHealthResponse(string Status, double ResponseTime, DateTimeOffset Timestamp, Dictionary<string, RedisStoreHealth> Details);

public sealed record RedisStoreHealth(string Status, object? ResponseTimeMs, object? Endpoint, string? Error);
