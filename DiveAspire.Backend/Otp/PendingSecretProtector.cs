using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace DiveAspire.Backend.Otp;

/// <summary>
/// Encrypts pending OTP secrets (AES-256-GCM) so they cannot be read from the instance's Redis, its AOF or its RDB.
/// The key is derived (HKDF-SHA256) from the instance's secret parameter <c>otp-key-&lt;code&gt;</c>, which the AppHost
/// passes as <c>Dive__Otp__Key</c>. The Redis key is the associated data: a value copied under another user's key does
/// not decrypt. Stored form: <c>v1.</c> + base64url(nonce | tag | ciphertext).
/// </summary>
public sealed class PendingSecretProtector
{
    public const string KeySetting = "Dive:Otp:Key";
    private const string Version = "v1.";
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private readonly byte[]? _key;

    public PendingSecretProtector(IConfiguration config)
    {
        if (config[KeySetting] is { Length: > 0 } secret)
        {
            _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: "dive-v3 otp pending secret"u8.ToArray());
        }
    }

    /// <summary>False when the AppHost gave this backend no key: OTP enrolment is then unavailable (503), never stored in clear.</summary>
    public bool Configured => _key is not null;

    public string Protect(string plaintext, string redisKey)
    {
        var data = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceBytes + TagBytes + data.Length];
        var nonce = output.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key!, TagBytes);
        aes.Encrypt(nonce, data, output.AsSpan(NonceBytes + TagBytes), output.AsSpan(NonceBytes, TagBytes), Encoding.UTF8.GetBytes(redisKey));
        return Version + WebEncoders.Base64UrlEncode(output);
    }

    /// <summary>The plaintext, or null for a value this key did not write (another key, tampered, or not ours).</summary>
    public string? Unprotect(string stored, string redisKey)
    {
        if (_key is null || !stored.StartsWith(Version, StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
            var input = WebEncoders.Base64UrlDecode(stored[Version.Length..]);
            if (input.Length < NonceBytes + TagBytes)
            {
                return null;
            }
            var plaintext = new byte[input.Length - NonceBytes - TagBytes];
            using var aes = new AesGcm(_key, TagBytes);
            aes.Decrypt(input.AsSpan(0, NonceBytes), input.AsSpan(NonceBytes + TagBytes), input.AsSpan(NonceBytes, TagBytes), plaintext, Encoding.UTF8.GetBytes(redisKey));
            return Encoding.UTF8.GetString(plaintext);
        }
        catch (Exception ex) when (ex is FormatException or AuthenticationTagMismatchException)
        {
            return null;
        }
    }
}
