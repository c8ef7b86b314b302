using DiveAspire.Backend.Catalog;

namespace DiveAspire.Backend.FederatedSearch;

public sealed record InstanceResult(string Instance, string Status, int Count, string? Error);

public sealed record SearchOutcome(string Query, IReadOnlyList<InstanceResult> Instances, IReadOnlyList<Resource> Results);

public sealed record LocalSearchResponse(string Instance, IReadOnlyList<Resource> Results);

public sealed record FederatedSearchResponse(
    string Query, bool Cached, bool Stored, string Breaker, int Total, IReadOnlyList<InstanceResult> Instances, IReadOnlyList<Resource> Results);
