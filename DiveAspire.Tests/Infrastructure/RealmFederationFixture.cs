namespace DiveAspire.Tests.Infrastructure;

/// <summary>
/// The hub + ROU + BEL federation (process runtime) whose backends also trust the realms of an
/// <see cref="OidcRealmStandIn"/>, as they trust every Keycloak realm in container runtime. BEL also gets the keys of
/// FRA, a realm outside the federation. Key refresh is allowed every second so rotation tests stay fast.
/// </summary>
public sealed class RealmFederationFixture : FederationFixture, IAsyncLifetime
{
    public static readonly string[] FederationRealms = ["usa", "rou", "bel"];
    public const string OutsideRealm = "fra";

    public OidcRealmStandIn Realms { get; } = new([.. FederationRealms, OutsideRealm]);

    protected override IEnumerable<string> ExtraArgs =>
        FederationRealms.SelectMany(backend => FederationRealms
            .Select(realm => $"Dive:Backends:{backend}:Auth:Realms:{realm}:MetadataAddress={Realms.MetadataAddress(realm)}")
            .Append($"Dive:Backends:{backend}:Auth:KeyRefreshInterval=00:00:01"))
        .Append($"Dive:Backends:bel:Auth:Realms:{OutsideRealm}:MetadataAddress={Realms.MetadataAddress(OutsideRealm)}");

    async Task IAsyncLifetime.InitializeAsync()
    {
        await Realms.StartAsync();
        try
        {
            await InitializeAsync();
        }
        catch
        {
            await Realms.DisposeAsync();
            throw;
        }
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        try
        {
            await DisposeAsync();
        }
        finally
        {
            await Realms.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RealmFederationCollection : ICollectionFixture<RealmFederationFixture>
{
    public const string Name = "realm-federation";
}
