using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Authorization;
using DiveAspire.Backend.Catalog;
using DiveAspire.Backend.Errors;
using DiveAspire.Backend.FederatedSearch;
using DiveAspire.Backend.Health;
using DiveAspire.Backend.OAuth;
using DiveAspire.Backend.Otp;
using DiveAspire.Backend.RateLimiting;
using DiveAspire.Backend.Revocation;

namespace DiveAspire.Backend.Json;

/// <summary>
/// Every type the backend reads or writes as JSON over HTTP or pub/sub, with the web defaults minimal APIs use (camelCase,
/// case-insensitive reading). Source-generated: the backend runs with reflection-based JSON off (the project file), so the
/// JIT build fails the same way a Native AOT build would when a type is missing here.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
// Request bodies bound by minimal APIs.
[JsonSerializable(typeof(UploadRequest))]
[JsonSerializable(typeof(InvalidateRequest))]
[JsonSerializable(typeof(VerifyRequest))]
[JsonSerializable(typeof(AuthorizeRequest))]
// Responses.
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(OAuthErrorBody))]
[JsonSerializable(typeof(WhoAmIResponse))]
[JsonSerializable(typeof(Resource))]
[JsonSerializable(typeof(ResourceListing))]
[JsonSerializable(typeof(DecisionResponse))]
[JsonSerializable(typeof(InvalidationResponse))]
[JsonSerializable(typeof(LocalSearchResponse))]
[JsonSerializable(typeof(FederatedSearchResponse))]
[JsonSerializable(typeof(LiveResponse))]
[JsonSerializable(typeof(ReadyResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(DependencyDetail))]
[JsonSerializable(typeof(RedisHealthResponse))]
[JsonSerializable(typeof(AuthorizeResponse))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(OtpSetupResponse))]
[JsonSerializable(typeof(OtpVerifiedResponse))]
[JsonSerializable(typeof(PendingSecretResponse))]
[JsonSerializable(typeof(PendingSecretDeletedResponse))]
[JsonSerializable(typeof(RateLimitStatusResponse))]
[JsonSerializable(typeof(RateLimitResetResponse))]
[JsonSerializable(typeof(RateLimitRejection))]
[JsonSerializable(typeof(CheckBlacklistResponse))]
[JsonSerializable(typeof(SyncResponse))]
[JsonSerializable(typeof(LogoutResponse))]
[JsonSerializable(typeof(UserRevokedResponse))]
[JsonSerializable(typeof(TokenBlacklistedResponse))]
[JsonSerializable(typeof(BlacklistCheckResponse))]
[JsonSerializable(typeof(BlacklistStatsResponse))]
[JsonSerializable(typeof(RouteDescription[]))]
// Values of object-typed members (health check data, the health report's dependencies).
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(DateTimeOffset))]
[JsonSerializable(typeof(TimeSpan))]
// Pub/sub messages (revocations; decision invalidations as received).
[JsonSerializable(typeof(RevocationRecord))]
[JsonSerializable(typeof(RevocationMessage))]
[JsonSerializable(typeof(InvalidationMessage))]
public sealed partial class WireJson : JsonSerializerContext;

/// <summary>
/// Values the backend keeps in its Redis as JSON with the serializer's plain defaults (property names as declared):
/// their stored format predates source generation and must not change.
/// </summary>
[JsonSerializable(typeof(Resource))]
[JsonSerializable(typeof(SearchOutcome))]
[JsonSerializable(typeof(Decision))]
[JsonSerializable(typeof(InvalidationMessage))]
[JsonSerializable(typeof(AuthorizationCode))]
[JsonSerializable(typeof(AuthorizationCodeUse))]
[JsonSerializable(typeof(PendingOtpSecret))]
public sealed partial class StoreJson : JsonSerializerContext;

/// <summary>
/// Results and contracts from <see cref="WireJson"/> by type. Endpoint lambdas use these rather than the generated
/// <c>WireJson.Default.X</c> properties: the request-delegate generator does not see another generator's output, and a
/// lambda whose return statement mentions it would reach it with an unknown return type.
/// </summary>
public static class Wire
{
    public static IResult Json<T>(T value, int? statusCode = null) => Results.Json(value, Contract<T>.Info, statusCode: statusCode);

    public static JsonTypeInfo<T> Info<T>() => Contract<T>.Info;

    private static class Contract<T>
    {
        public static readonly JsonTypeInfo<T> Info = WireJson.Default.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>
            ?? throw new NotSupportedException($"{typeof(T)} is not in WireJson: add it there.");
    }
}

public static class JsonSetup
{
    /// <summary>Minimal APIs (bodies, results) resolve their types from <see cref="WireJson"/> first.</summary>
    public static IServiceCollection AddDiveJson(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, WireJson.Default));
}
