namespace DiveAspire.Backend.Errors;

/// <summary>The project's error body: <c>{"error": reason phrase, "message": what went wrong}</c>.</summary>
public sealed record ErrorBody(string Error, string Message);
