using System.Text;
using System.Text.Json;
using DiveAspire.Backend.Validation;

namespace DiveAspire.Backend.Revocation;

/// <summary>
/// A request body read by hand, so that an empty, non-JSON or wrongly typed body is a 400 with a JSON error
/// (model binding would answer with an empty 400 or throw).
/// </summary>
public sealed class RevocationRequest
{
    private const int MaxBodyBytes = 16 * 1024;
    private readonly JsonElement _body;

    private RevocationRequest(JsonElement body) => _body = body;

    public bool IsEmpty => _body.ValueKind == JsonValueKind.Undefined;

    /// <summary>Reads the body; <paramref name="required"/> false allows an empty body.</summary>
    public static async Task<(RevocationRequest? Request, IResult? Error)> ReadAsync(HttpRequest request, bool required)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, RevocationResults.TooLarge($"Request body must be at most {MaxBodyBytes} bytes"));
        }
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        if (string.IsNullOrWhiteSpace(text))
        {
            return required ? (null, RevocationResults.BadRequest("Request body must be a JSON object")) : (new RevocationRequest(default), null);
        }
        if (text.Length > MaxBodyBytes)
        {
            return (null, RevocationResults.TooLarge($"Request body must be at most {MaxBodyBytes} bytes"));
        }
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? (new RevocationRequest(document.RootElement.Clone()), null)
                : (null, RevocationResults.BadRequest("Request body must be a JSON object"));
        }
        catch (JsonException)
        {
            return (null, RevocationResults.BadRequest("Request body is not valid JSON"));
        }
    }

    /// <summary>An optional string field; an error when present with another type or too long.</summary>
    public (string? Value, IResult? Error) OptionalString(string name, int maxBytes)
    {
        if (IsEmpty || !_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            return (null, RevocationResults.BadRequest($"'{name}' must be a string"));
        }
        if (!SafeText.TryGetString(value, out var text))
        {
            return (null, RevocationResults.BadRequest($"'{name}' is not valid Unicode (unpaired surrogate)"));
        }
        return Encoding.UTF8.GetByteCount(text!) > maxBytes ? (null, RevocationResults.BadRequest($"'{name}' must be at most {maxBytes} bytes"))
            : SafeText.Problem(text!) is { } problem ? (null, RevocationResults.BadRequest($"'{name}' {problem}"))
            : (text, null);
    }

    public (string? Value, IResult? Error) RequiredIdentifier(string name)
    {
        var (value, error) = OptionalString(name, RevocationKeys.MaxIdentifierBytes);
        if (error is not null)
        {
            return (null, error);
        }
        return string.IsNullOrWhiteSpace(value) ? (null, RevocationResults.BadRequest($"'{name}' is required")) : (value, null);
    }

    /// <summary>An optional whole number in [min, max].</summary>
    public (long? Value, IResult? Error) OptionalNumber(string name, long min, long max)
    {
        if (IsEmpty || !_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= min && number <= max
            ? (number, null)
            : (null, RevocationResults.BadRequest($"'{name}' must be a whole number from {min} to {max}"));
    }

    /// <summary>Validates an identifier taken from the URL.</summary>
    public static IResult? ValidateIdentifier(string? value, string name) =>
        string.IsNullOrWhiteSpace(value) ? RevocationResults.BadRequest($"'{name}' is required")
        : Encoding.UTF8.GetByteCount(value) > RevocationKeys.MaxIdentifierBytes ? RevocationResults.BadRequest($"'{name}' must be at most {RevocationKeys.MaxIdentifierBytes} bytes")
        : SafeText.Problem(value) is { } problem ? RevocationResults.BadRequest($"'{name}' {problem}")
        : null;
}
