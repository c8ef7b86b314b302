using DiveAspire.Backend.Authorization;
using DiveAspire.Backend.Catalog;
using Resource = DiveAspire.Backend.Catalog.Resource;

namespace DiveAspire.Tests.Unit;

/// <summary>GET /api/resources reuses a written body only for callers whose every attribute the body depends on is the same.</summary>
public sealed class CatalogListingTests
{
    private static Subject User(string clearance, params string[] cois) => new("u", clearance, "USA", cois);

    [Fact]
    public void Callers_differing_in_any_attribute_get_different_keys()
    {
        string[] keys =
        [
            ResourceEndpoints.CallerKey(User("SECRET", "NATO"), "USA"),
            ResourceEndpoints.CallerKey(User("SECRET", "NATO"), "usa"),
            ResourceEndpoints.CallerKey(User("SECRET", "NATO"), null),
            ResourceEndpoints.CallerKey(User("SECRET", "NATO"), ""),
            ResourceEndpoints.CallerKey(User("SECRET"), "USA"),
            ResourceEndpoints.CallerKey(User("SECRET", "NATO", "FVEY"), "USA"),
            ResourceEndpoints.CallerKey(User("SECRET", "FVEY", "NATO"), "USA"),
            ResourceEndpoints.CallerKey(User("TOP_SECRET", "NATO"), "USA"),
            ResourceEndpoints.CallerKey(User("secret", "NATO"), "USA"),
            // Separators inside values cannot make two attribute sets collide.
            ResourceEndpoints.CallerKey(User("SECRET", "NATO:FVEY"), "USA"),
            ResourceEndpoints.CallerKey(User("SECRET", "NATO", "FVEY"), "USA"),
            ResourceEndpoints.CallerKey(User("SECRET3:USA"), null),
            ResourceEndpoints.CallerKey(User("SECRET"), "3:USA"),
        ];
        Assert.Equal(keys.Length - 1, keys.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(keys[5], keys[10]);
        Assert.Equal(ResourceEndpoints.CallerKey(User("SECRET", "NATO"), "USA"), ResourceEndpoints.CallerKey(new Subject("another user", "SECRET", "USA", ["NATO"]), "USA"));
    }

    [Fact]
    public void A_body_is_written_once_per_caller_key_and_listing()
    {
        IReadOnlyList<Resource> resources = [new("DOC-1", "t", "SECRET", ["USA"], [], "USA")];
        var listing = new CatalogListing(resources, reuseBodies: true);
        var writes = 0;
        byte[] Write(IReadOnlyList<Resource> r, string key) { writes++; Assert.Same(resources, r); return [(byte)key[0]]; }

        var first = listing.Body("a", "a", Write);
        Assert.Same(first, listing.Body("a", "a", Write));
        Assert.NotSame(first, listing.Body("b", "b", Write));
        Assert.Equal(2, writes);

        // Another listing (the hash changed) starts with no bodies; without reuse every request writes its body.
        Assert.NotSame(first, new CatalogListing(resources, reuseBodies: true).Body("a", "a", Write));
        var off = new CatalogListing(resources, reuseBodies: false);
        off.Body("a", "a", Write);
        off.Body("a", "a", Write);
        Assert.Equal(5, writes);
    }

    [Fact]
    public void The_number_of_remembered_bodies_is_bounded()
    {
        var listing = new CatalogListing([], reuseBodies: true);
        var writes = 0;
        for (var i = 0; i < CatalogListing.MaxBodies + 10; i++)
        {
            listing.Body(i.ToString(System.Globalization.CultureInfo.InvariantCulture), 0, (_, _) => { writes++; return []; });
        }
        listing.Body((CatalogListing.MaxBodies + 5).ToString(System.Globalization.CultureInfo.InvariantCulture), 0, (_, _) => { writes++; return []; });
        Assert.Equal(CatalogListing.MaxBodies + 11, writes);
    }

    [Fact]
    public void The_bytes_of_remembered_bodies_are_bounded()
    {
        // Large catalogs make large bodies: a caller key spray must not keep MaxBodies of them.
        var listing = new CatalogListing([], reuseBodies: true);
        var writes = 0;
        const int bodyBytes = 1024 * 1024;
        var keys = Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        byte[] Write(IReadOnlyList<Resource> r, int size) { writes++; return new byte[size]; }

        foreach (var key in keys)
        {
            listing.Body(key, bodyBytes, Write);
        }
        Assert.True(listing.BodyBytes <= CatalogListing.MaxBytes, $"{listing.BodyBytes} bytes kept");
        var kept = (int)(CatalogListing.MaxBytes / bodyBytes);
        foreach (var key in keys)
        {
            listing.Body(key, bodyBytes, Write);
        }
        // The first bodies within the budget are served again; each one beyond it is written again.
        Assert.Equal(keys.Count + (keys.Count - kept), writes);

        // A small body still fits after large ones were refused; one larger than the whole budget is never kept.
        var small = new CatalogListing([], reuseBodies: true, maxBytes: 100);
        writes = 0;
        small.Body("huge", 101, Write);
        small.Body("huge", 101, Write);
        small.Body("a", 60, Write);
        small.Body("b", 60, Write);
        small.Body("c", 40, Write);
        small.Body("a", 60, Write);
        small.Body("b", 60, Write);
        small.Body("c", 40, Write);
        Assert.Equal(6, writes);
        Assert.Equal(100, small.BodyBytes);
    }
}
