using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Scenario;

/// <summary>The original plan's federation: hub USA with spokes ROU and BEL, in the process runtime.</summary>
public sealed class ScenarioFixture : FederationFixture
{
    protected override IEnumerable<string> ExtraArgs => [];
}

[CollectionDefinition(Name)]
public sealed class ScenarioCollection : ICollectionFixture<ScenarioFixture>
{
    public const string Name = "redis-integration";
}
