using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using DiveAspire.Backend.Auth;
using Microsoft.AspNetCore.Http.Features;

namespace DiveAspire.Backend.RateLimiting;

/// <summary>
/// Failed authentication counts per client address and also per account (the signed-in user for OTP verify, the OAuth
/// client for a code exchange), so an attacker who rotates addresses still gets 5 failures per account and window.
/// The account window is <c>dive-v3:rate-limit:auth:account:{account}</c>.
/// </summary>
public static class AccountLimiter
{
    private const int MaxAccountLength = 128;

    /// <summary>The account an authentication attempt is for, or null (then only the address counts).</summary>
    public static string? AccountOf(HttpContext http)
    {
        if (http.User.UserId() is { } user)
        {
            return Bounded("user:" + user);
        }
        return http.Features.Get<IFormFeature>()?.Form?["client_id"].ToString() is { Length: > 0 } client ? Bounded("client:" + client) : null;
    }

    // Long ids would make long Redis keys: beyond 128 characters the account is its hash.
    private static string Bounded(string account) =>
        account.Length <= MaxAccountLength ? account : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(account)));

    /// <summary>
    /// The OAuth token request is form-encoded: read it (ASP.NET Core buffers it for the endpoint) before the rate
    /// limiter decides, so the partition knows the client. A body that is not a readable form is left to the endpoint.
    /// </summary>
    public static async Task ReadTokenFormAsync(HttpContext http, RequestDelegate next)
    {
        if (http.Request.Path.StartsWithSegments("/api/oauth/token") && http.Request.HasFormContentType)
        {
            try
            {
                await http.Request.ReadFormAsync(http.RequestAborted);
            }
            catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException or IOException)
            {
                // The endpoint answers the malformed body; the attempt still counts against the address.
            }
        }
        await next(http);
    }
}

/// <summary>Admits only when both limiters admit (the address's, then the account's); a rejection answers with the refusing window.</summary>
public sealed class ChainedLimiter(RateLimiter first, RateLimiter second) : RateLimiter
{
    public override TimeSpan? IdleDuration => first.IdleDuration is { } a && second.IdleDuration is { } b ? (a < b ? a : b) : null;

    public override RateLimiterStatistics? GetStatistics() => null;

    // Always asynchronous: the middleware then calls AcquireAsyncCore, which asks both windows in turn.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => NotYet.Instance;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var lease = await first.AcquireAsync(permitCount, cancellationToken);
        if (!lease.IsAcquired)
        {
            return lease;
        }
        var account = await second.AcquireAsync(permitCount, cancellationToken);
        if (!account.IsAcquired)
        {
            lease.Dispose(); // the address's slot comes back when the 429 is sent (the auth limiter refunds all but 400/401)
            return account;
        }
        account.Dispose();
        return lease;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            first.Dispose();
            second.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed class NotYet : RateLimitLease
    {
        public static readonly NotYet Instance = new();
        public override bool IsAcquired => false;
        public override IEnumerable<string> MetadataNames => [];
        public override bool TryGetMetadata(string metadataName, out object? metadata) { metadata = null; return false; }
    }
}
