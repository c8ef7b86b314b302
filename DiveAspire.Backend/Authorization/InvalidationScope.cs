namespace DiveAspire.Backend.Authorization;

public enum InvalidationScope { All, User, Resource }

/// <summary>What travels on <c>authz:invalidate</c>.</summary>
public sealed record InvalidationMessage(string Scope, string? Identifier, string SourceNode, string SourceInstance, DateTimeOffset Timestamp);
