namespace DiveAspire.Tests.Security;

/// <summary>
/// Hub + ROU for the bad-input suite: limits high enough that a battery of malformed requests reaches the endpoints
/// (not the limiters), and ROU exposing its route table (<c>Dive:Diagnostics:RouteTable</c>) so the battery is generated from it.
/// </summary>
public sealed class BadInputFixture : Infrastructure.FederationFixture
{
    public const string Code = "rou";

    public override string Spokes => Code;

    protected override IEnumerable<string> ExtraArgs =>
    [
        .. DiveAspire.Backend.RateLimiting.RateLimitPolicies.All.Select(type => $"Dive:RateLimits:{type}:Max=1000000"),
        // and the realm-wide revocation window (all of ROU's tokens together)
        "Dive:RateLimits:revocation:RealmMax=1000000",
        $"Dive:Backends:{Code}:Diagnostics:RouteTable=true",
    ];
}

[CollectionDefinition(Name)]
public sealed class BadInputCollection : ICollectionFixture<BadInputFixture>
{
    public const string Name = "bad-input";
}
