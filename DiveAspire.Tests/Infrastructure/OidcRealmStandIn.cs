using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using DiveAspire.Topology;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>
/// Keycloak cannot run here: this serves, over real HTTP on a loopback port, what a backend reads from a Keycloak realm
/// (OpenID metadata and JWKS under /realms/dive-v3-broker-&lt;code&gt;) and signs RS256 tokens shaped like that realm's.
/// Keys are generated per run. It can be stopped and started again on the same port.
/// </summary>
public sealed class OidcRealmStandIn : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, List<RsaSecurityKey>> _keys = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<RSA> _rsas = [];
    private WebApplication? _app;

    public OidcRealmStandIn(params string[] codes)
    {
        foreach (var code in codes)
        {
            _keys[code] = [NewKey()];
        }
    }

    public int Port { get; private set; }

    /// <summary>Where it listens (loopback unless set before <see cref="StartAsync"/>, e.g. to an address containers reach).</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Loopback;

    /// <summary>While true, every request is accepted and never answered (a realm that hangs).</summary>
    public bool Stalled { get; set; }

    public string MetadataAddress(string code) => $"{RealmUrl(code)}/.well-known/openid-configuration";

    /// <summary>A key of no realm (its kid is published nowhere).</summary>
    public RsaSecurityKey NewKey()
    {
        var rsa = RSA.Create(2048);
        lock (_rsas)
        {
            _rsas.Add(rsa);
        }
        return new RsaSecurityKey(rsa) { KeyId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant() };
    }

    /// <summary>Publishes a new key for the realm next to the old ones (as a Keycloak key rotation does) and returns it.</summary>
    public RsaSecurityKey Rotate(string code)
    {
        var key = NewKey();
        lock (_keys[code])
        {
            _keys[code].Add(key);
        }
        return key;
    }

    /// <summary>A token as the realm of <paramref name="code"/> issues it; <paramref name="key"/> and <paramref name="issuer"/> override for bad tokens.</summary>
    public string Mint(string code, string user, string clearance = "SECRET", RsaSecurityKey? key = null, string? issuer = null, TimeSpan? ttl = null)
    {
        var country = NatoCatalog.Get(code);
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Federation.Issuer(country),
            Audience = Federation.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.Add(ttl ?? TimeSpan.FromMinutes(5)),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = Guid.NewGuid().ToString(),
                ["uniqueID"] = user,
                ["preferred_username"] = user,
                ["clearance"] = clearance,
                ["countryOfAffiliation"] = country.Code,
                ["acpCOI"] = new[] { "NATO" },
            },
            Subject = new ClaimsIdentity([new Claim("jti", Guid.NewGuid().ToString())]),
            SigningCredentials = new SigningCredentials(key ?? _keys[code][0], SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(ListenAddress, Port));
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (Stalled)
            {
                using var gone = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, app.Lifetime.ApplicationStopping);
                await Task.Delay(Timeout.Infinite, gone.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            }
            await next(context);
        });
        app.MapGet("/realms/{realm}/.well-known/openid-configuration", (string realm) => Realm(realm) is { } code
            ? Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = Federation.Issuer(NatoCatalog.Get(code)),
                ["jwks_uri"] = $"{RealmUrl(code)}/protocol/openid-connect/certs",
                ["id_token_signing_alg_values_supported"] = new[] { SecurityAlgorithms.RsaSha256 },
            })
            : Results.NotFound());
        app.MapGet("/realms/{realm}/protocol/openid-connect/certs", (string realm) => Realm(realm) is { } code
            ? Results.Json(new { keys = PublicKeys(code) })
            : Results.NotFound());
        await app.StartAsync();
        _app = app;
        Port = new Uri(app.Urls.First()).Port;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        lock (_rsas)
        {
            _rsas.ForEach(rsa => rsa.Dispose());
        }
    }

    private string RealmUrl(string code) => $"http://{ListenAddress}:{Port}/realms/{Federation.Realm(NatoCatalog.Get(code))}";

    private string? Realm(string realm) => _keys.Keys.FirstOrDefault(code => Federation.Realm(NatoCatalog.Get(code)) == realm);

    private List<Dictionary<string, string>> PublicKeys(string code)
    {
        lock (_keys[code])
        {
            return _keys[code].Select(key =>
            {
                var parameters = key.Rsa.ExportParameters(includePrivateParameters: false);
                return new Dictionary<string, string>
                {
                    ["kty"] = "RSA",
                    ["use"] = "sig",
                    ["alg"] = SecurityAlgorithms.RsaSha256,
                    ["kid"] = key.KeyId,
                    ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
                    ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
                };
            }).ToList();
        }
    }
}
