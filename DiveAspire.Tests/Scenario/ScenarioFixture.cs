using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Scenario;

/// <summary>
/// The original plan's federation: hub USA with spokes ROU and BEL, in the process runtime; ROU runs two replicas of
/// its backend, and the api limiter is lowered so a test can exhaust it quickly.
/// </summary>
public sealed class ScenarioFixture : FederationFixture
{
    public const int ApiLimit = 30;

    protected override IEnumerable<string> ExtraArgs => ["Dive:Replicas:rou=2", $"Dive:RateLimits:api:Max={ApiLimit}"];
}

[CollectionDefinition(Name)]
public sealed class ScenarioCollection : ICollectionFixture<ScenarioFixture>
{
    public const string Name = "redis-integration";
}
