using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiveAspire.Backend.Revocation;

/// <summary>The value stored under <c>blacklist:{jti}</c> and <c>user-revoked:{uniqueID}</c>.</summary>
public sealed record RevocationRecord(DateTimeOffset RevokedAt, string Reason, DateTimeOffset ExpiresAt, string RevokedByInstance)
{
    public string ToJson() => JsonSerializer.Serialize(this, WireJson.Default.RevocationRecord);
}

/// <summary>The pub/sub message on <c>dive-v3:token-blacklist</c> / <c>dive-v3:user-revoked</c>.</summary>
public sealed record RevocationMessage(string Type, string Identifier, string Reason, string SourceInstance, DateTimeOffset Timestamp)
{
    public const string TokenType = "token";
    public const string UserType = "user";

    [JsonIgnore]
    public RevocationKind Kind => Type == UserType ? RevocationKind.User : RevocationKind.Token;

    public string ToJson() => JsonSerializer.Serialize(this, WireJson.Default.RevocationMessage);

    /// <summary>Null for anything that is not a well-formed message: a bad publish must not break the subscriber.</summary>
    public static RevocationMessage? TryParse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }
        try
        {
            var message = JsonSerializer.Deserialize(json, WireJson.Default.RevocationMessage);
            return message is { Type: TokenType or UserType, Identifier.Length: > 0 } ? message : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
