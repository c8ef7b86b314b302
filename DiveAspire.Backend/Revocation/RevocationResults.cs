namespace DiveAspire.Backend.Revocation;

/// <summary>The JSON error bodies of the revocation endpoints.</summary>
public static class RevocationResults
{
    public static IResult BadRequest(string message) =>
        Results.Json(new { error = "Bad Request", message }, statusCode: StatusCodes.Status400BadRequest);

    public static IResult TooLarge(string message) =>
        Results.Json(new { error = "Payload Too Large", message }, statusCode: StatusCodes.Status413PayloadTooLarge);

    public static IResult Forbidden(string message) =>
        Results.Json(new { error = "Forbidden", message }, statusCode: StatusCodes.Status403Forbidden);

    public static IResult Unavailable(string message) =>
        Results.Json(new { error = "Service Unavailable", message }, statusCode: StatusCodes.Status503ServiceUnavailable);
}
