using DiveAspire.Topology;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace DiveAspire.Backend.Auth;

/// <summary>
/// The signing keys of every federation realm configured as <c>Dive:Auth:Realms:&lt;code&gt;:MetadataAddress</c>
/// (container runtime: every instance's Keycloak), keyed by the realm's issuer. A realm's keys only ever validate
/// tokens that carry that realm's issuer, so one realm cannot sign for another.
/// </summary>
public sealed class FederationSigningKeys : IDisposable
{
    /// <summary>Bounds every metadata or JWKS fetch: an unreachable realm costs a request at most this long.</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a realm whose keys could never be fetched is not asked again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http = new() { Timeout = FetchTimeout };
    private readonly Dictionary<string, Realm> _realms = new(StringComparer.Ordinal);

    public FederationSigningKeys(IConfiguration config, ILogger<FederationSigningKeys> logger)
    {
        var auth = config.GetSection("Dive:Auth");
        // Also the minimum time between two refreshes forced by an unknown kid (a random kid cannot hammer the realm).
        var refreshInterval = auth.GetValue("KeyRefreshInterval", BaseConfigurationManager.DefaultRefreshInterval);
        var http = new HttpDocumentRetriever(_http) { RequireHttps = false };
        foreach (var realm in auth.GetSection("Realms").GetChildren())
        {
            if (realm["MetadataAddress"] is not { Length: > 0 } metadata)
            {
                continue;
            }
            var country = NatoCatalog.Get(realm.Key);
            var retriever = new ReportingRetriever(http, Federation.Realm(country), logger);
            var manager = new ConfigurationManager<OpenIdConnectConfiguration>(metadata, new OpenIdConnectConfigurationRetriever(), retriever)
            {
                RefreshInterval = refreshInterval,
            };
            _realms[Federation.Issuer(country, realm["Issuer"])] = new Realm(manager);
        }
    }

    /// <summary>
    /// Makes sure the keys of the (still unverified) token's realm are loaded: cached by the realm's manager, fetched
    /// when missing or due. Returns false only when the token names a trusted realm whose keys cannot be had.
    /// </summary>
    public Task<bool> LoadAsync(string? bearerToken, CancellationToken ct) =>
        _realms.Count > 0 && UnverifiedIssuer(bearerToken) is { } issuer && _realms.TryGetValue(issuer, out var realm)
            ? realm.LoadAsync(ct)
            : Task.FromResult(true); // process runtime has no realms: no second parse of the token per request

    /// <summary>
    /// The keys that may have signed a token of <paramref name="issuer"/>. An unknown kid asks the realm for fresh keys
    /// (a rotation), at most once per refresh interval; this request still fails.
    /// </summary>
    public IReadOnlyList<SecurityKey> For(string? issuer, string? kid)
    {
        if (issuer is null || !_realms.TryGetValue(issuer, out var realm))
        {
            return [];
        }
        var keys = realm.Keys;
        if (kid is not null && !keys.Any(k => k.KeyId == kid))
        {
            realm.Manager.RequestRefresh();
        }
        return keys;
    }

    private static string? UnverifiedIssuer(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }
        try
        {
            return new JsonWebToken(token).Issuer;
        }
        catch (ArgumentException)
        {
            return null; // Malformed: the bearer handler rejects it with its own message.
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// One realm's keys. Requests share one fetch at a time, and after a failed first fetch they fail at once for
    /// <see cref="RetryDelay"/>: a realm that hangs costs one request <see cref="FetchTimeout"/>, not each in turn.
    /// </summary>
    private sealed class Realm(ConfigurationManager<OpenIdConnectConfiguration> manager)
    {
        private readonly Lock _gate = new();
        private Task<bool>? _fetch;
        private OpenIdConnectConfiguration? _loaded;
        private long _retryAfter;

        public ConfigurationManager<OpenIdConnectConfiguration> Manager { get; } = manager;
        public volatile IReadOnlyList<SecurityKey> Keys = [];

        public Task<bool> LoadAsync(CancellationToken ct)
        {
            lock (_gate)
            {
                if (_fetch is null || _fetch.IsCompleted)
                {
                    if (Keys.Count == 0 && Environment.TickCount64 < _retryAfter)
                    {
                        return Task.FromResult(false);
                    }
                    _fetch = FetchAsync();
                }
                return _fetch.WaitAsync(ct);
            }
        }

        private async Task<bool> FetchAsync()
        {
            try
            {
                // Cached by the manager; refreshed when due or asked for (RequestRefresh), stale keys kept on failure.
                var configuration = await Manager.GetConfigurationAsync(CancellationToken.None);
                if (!ReferenceEquals(configuration, _loaded))
                {
                    _loaded = configuration;
                    Keys = configuration.SigningKeys.ToList();
                }
                return true;
            }
            catch (InvalidOperationException)
            {
                // No keys yet and the realm does not answer (ReportingRetriever logged why).
                _retryAfter = Environment.TickCount64 + (long)RetryDelay.TotalMilliseconds;
                return false;
            }
        }
    }

    /// <summary>Logs a realm's fetch failures once (until it answers again): the reason only, never a token.</summary>
    private sealed class ReportingRetriever(IDocumentRetriever inner, string realm, ILogger logger) : IDocumentRetriever
    {
        private int _failing;

        public async Task<string> GetDocumentAsync(string address, CancellationToken cancel)
        {
            try
            {
                var document = await inner.GetDocumentAsync(address, cancel);
                if (Interlocked.Exchange(ref _failing, 0) == 1)
                {
                    logger.LogInformation("Signing keys of realm {Realm} can be fetched again", realm);
                }
                return document;
            }
            catch (Exception ex)
            {
                if (Interlocked.Exchange(ref _failing, 1) == 0)
                {
                    logger.LogWarning("Signing keys of realm {Realm} cannot be fetched from {Address}: {Reason}. Tokens signed by keys not fetched yet are refused until it answers.",
                        realm, address, ex.GetBaseException().Message);
                }
                throw;
            }
        }
    }
}
