namespace DiveAspire.Backend.Catalog;

/// <summary>A document's metadata: what ACP-240 authorization decides on and what federated search returns.</summary>
public sealed record Resource(
    string ResourceId,
    string Title,
    string Classification,
    IReadOnlyList<string> ReleasabilityTo,
    IReadOnlyList<string> Coi,
    string Instance);
