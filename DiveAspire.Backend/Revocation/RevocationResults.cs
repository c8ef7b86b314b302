using DiveAspire.Backend.Errors;
using DiveAspire.Backend.Json;

namespace DiveAspire.Backend.Revocation;

/// <summary>The JSON error bodies of the revocation endpoints.</summary>
public static class RevocationResults
{
    public static IResult BadRequest(string message) =>
        Wire.Json(new ErrorBody("Bad Request", message), statusCode: StatusCodes.Status400BadRequest);

    public static IResult TooLarge(string message) =>
        Wire.Json(new ErrorBody("Payload Too Large", message), statusCode: StatusCodes.Status413PayloadTooLarge);

    public static IResult Forbidden(string message) =>
        Wire.Json(new ErrorBody("Forbidden", message), statusCode: StatusCodes.Status403Forbidden);

    public static IResult Unavailable(string message) =>
        Wire.Json(new ErrorBody("Service Unavailable", message), statusCode: StatusCodes.Status503ServiceUnavailable);
}
