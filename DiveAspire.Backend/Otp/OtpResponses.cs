namespace DiveAspire.Backend.Otp;

// The JSON bodies of the OTP endpoints (camelCase on the wire: WireJson).

public sealed record OtpSetupResponse(string UserId, string Secret, string OtpauthUrl, int ExpiresIn);

public sealed record OtpVerifiedResponse(string UserId, bool Verified);

public sealed record PendingSecretResponse(string UserId, string Secret, DateTimeOffset CreatedAt, int ExpiresIn);

public sealed record PendingSecretDeletedResponse(string UserId, bool Deleted);

/// <summary>A pending secret as stored (encrypted) in the instance's Redis: StoreJson, property names as declared.</summary>
public sealed record PendingOtpSecret(string Secret, DateTimeOffset CreatedAt)
{
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, StoreJson.Default.PendingOtpSecret);

    public static PendingOtpSecret? FromJson(string json) => System.Text.Json.JsonSerializer.Deserialize(json, StoreJson.Default.PendingOtpSecret);
}
