using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Security;

/// <summary>
/// Hub + ROU in process runtime for the revocation, OAuth and OTP attacks. Its own federation: the readiness test stops
/// the shared store and restarts a backend, and the flooding test exhausts a limiter.
/// </summary>
public sealed class RevocationSecurityFixture : FederationFixture
{
    public override string Spokes => "rou";
}

[CollectionDefinition(Name)]
public sealed class RevocationSecurityCollection : ICollectionFixture<RevocationSecurityFixture>
{
    public const string Name = "security-revocation";
}
