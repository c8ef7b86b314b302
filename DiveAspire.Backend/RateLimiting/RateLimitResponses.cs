namespace DiveAspire.Backend.RateLimiting;

// The JSON bodies of the rate-limit admin endpoints and of a 429 (camelCase on the wire: WireJson).

public sealed record RateLimitStatusResponse(
    string Instance, string Store, Dictionary<string, LimitDescription> Limits, Dictionary<string, int> ActiveKeys, Dictionary<string, List<string>> Clients);

public sealed record LimitDescription(int Max, long WindowSeconds);

public sealed record RateLimitResetResponse(string Ip, int KeysDeleted);

public sealed record RateLimitRejection(string Error, string Message, RejectionDetails Details);

public sealed record RejectionDetails(long RetryAfter, int Limit, long Remaining);
