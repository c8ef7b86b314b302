using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace DiveAspire.Tests.Security;

/// <summary>One endpoint of the backend's route table (GET /api/admin/routes).</summary>
public sealed record RouteInfo(string Pattern, IReadOnlyList<string> Methods, IReadOnlyList<string> Fields);

/// <summary>One malformed request of the battery; <see cref="Token"/> null means "a fresh valid admin token".</summary>
public sealed record BadRequest(string Method, string Path, string? ContentType, byte[]? Body, string? Token = null, bool Anonymous = false)
{
    /// <summary>
    /// Kestrel refuses an encoded NUL in the path while parsing the request line, before any middleware runs, with a bare
    /// 400 and a closed connection: no application code can give it a JSON body. The rule there is "400, not 5xx".
    /// </summary>
    public bool RefusedByKestrel => Path.Split('?')[0].Contains("%00", StringComparison.Ordinal);
}

/// <summary>
/// Generates the bad-input battery for every endpoint of a route table: wrong methods, content types and charsets,
/// empty/null/invalid JSON, wrong types, null in arrays, surrogates, control and bidi characters, oversized bodies and
/// fields, malformed forms and multipart, bad path and query values. Nothing here names an endpoint.
/// </summary>
public static partial class EndpointBattery
{
    private const string Json = "application/json";
    private static readonly string[] AllMethods = ["GET", "POST", "PUT", "DELETE", "PATCH"];

    /// <summary>Field names of the bodies that endpoints read by hand (no bound type in the route table).</summary>
    private static readonly string[] CommonFields = ["jti", "exp", "reason", "uniqueID", "ttlSeconds", "code", "scope", "identifier"];

    /// <summary>Bad JSON values for any field (JSON text).</summary>
    public static readonly string[] BadValues =
    [
        "null", "[null]", "[null,\"x\"]", "{}", "true", "1e400", "-1", "9223372036854775808", "\"\"", "\"   \"",
        "\"\\ud800\"", "\"x\\udfff\"", "\"a\\u0000b\"", "\"\\u001b[31mred\\u001b[0m\"", "\"report\\u202efdp.exe\"", "\"\\u2066x\\u2069\"",
        "\"a\\r\\nb\"", "\"<script>alert(1)</script>\"", "\"../../etc/passwd\"", "\"" + new string('x', 40_000) + "\"",
        "[" + string.Join(',', Enumerable.Repeat("\"x\"", 200)) + "]", new string('[', 100) + new string(']', 100),
    ];

    /// <summary>Bad values for a path or query parameter (already URL-encoded).</summary>
    public static readonly string[] BadSegments =
        ["%00", "%ED%A0%80", "%1B%5B31m", "%E2%80%AE", "%2E%2E", "%2F%2E%2E%2F", "%0D%0Aset-cookie:x", new string('a', 4000), "*", "%25"];

    public static IEnumerable<BadRequest> For(RouteInfo route, IReadOnlyList<(string? Token, bool Anonymous)> badTokens)
    {
        var path = Fill(route.Pattern, "x");
        var methods = route.Methods.Count > 0 ? route.Methods : ["GET", "POST"];

        foreach (var method in AllMethods.Except(methods))
        {
            yield return new(method, path, Json, Encoding.UTF8.GetBytes("{}"));
        }
        foreach (var method in methods)
        {
            foreach (var request in method is "GET" or "HEAD" ? BodiesOnGet(method, path) : Bodies(method, path, route))
            {
                yield return request;
            }
            foreach (var bad in BadSegments)
            {
                foreach (var parameter in Parameters(route.Pattern))
                {
                    yield return new(method, Fill(route.Pattern, "x", parameter, bad), null, null);
                }
                yield return new(method, $"{path}?q={bad}", null, null);
                yield return new(method, $"{path}?{bad}=1&q=x&q=y", null, null);
                yield return new(method, $"{path}/{bad}", null, null);
            }
            foreach (var (token, anonymous) in badTokens)
            {
                yield return new(method, path, Json, Encoding.UTF8.GetBytes("{}"), token, anonymous);
            }
        }
    }

    /// <summary>A GET ignores its body: one of each kind is enough to show it does not break anything.</summary>
    private static IEnumerable<BadRequest> BodiesOnGet(string method, string path)
    {
        yield return new(method, path, Json, Encoding.UTF8.GetBytes("{"));
        yield return new(method, path, "application/json; charset=bogus-9", Encoding.UTF8.GetBytes("{}"));
        yield return new(method, path, "multipart/form-data", Encoding.UTF8.GetBytes("--X\r\n\r\n--X--\r\n"));
    }

    private static IEnumerable<BadRequest> Bodies(string method, string path, RouteInfo route)
    {
        BadRequest Send(string? contentType, string? body) => new(method, path, contentType, body is null ? null : Encoding.UTF8.GetBytes(body));

        yield return Send(null, null);
        foreach (var body in new[] { "", "null", "[]", "[null]", "{", "{\"a\":", "\"text\"", "42", "{\"a\":1,\"a\":2}", "\uFEFF{}", "{}garbage", "{'a':1}" })
        {
            yield return Send(Json, body);
        }
        foreach (var contentType in new[] { "text/plain", "application/xml", "application/json; charset=bogus-9", "application/json; charset=utf-16",
                     "application/json; charset=", "application/json;;;", "*/*", "application/x-www-form-urlencoded", "multipart/form-data" })
        {
            yield return Send(contentType, "{}");
        }
        yield return new(method, path, Json, Encoding.Latin1.GetBytes("{\"title\":\"caf\u00e9\"}"));
        yield return new(method, path, Json, [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00]);
        // Oversized: above the 64 KiB body limit.
        yield return Send(Json, "{\"title\":\"" + new string('t', 100_000) + "\"}");
        // Forms and multipart the framework rejects.
        yield return Send("multipart/form-data", "--X\r\n\r\n--X--\r\n");
        yield return Send("multipart/form-data; boundary=Y", "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--X--\r\n");
        yield return Send("multipart/form-data; boundary=X", "--X\r\nContent-Type: text/plain\r\n\r\n1\r\n--X--\r\n");
        yield return Send("application/x-www-form-urlencoded", "a=%00&b=%ED%A0%80&%00=1");
        yield return Send("application/x-www-form-urlencoded", new string('k', 2100) + "=1");
        yield return Send("application/x-www-form-urlencoded", string.Join('&', Enumerable.Range(0, 1100).Select(i => $"f{i}=1")));

        // Every field, each bad value, next to the other fields (so a check of an earlier field does not hide it).
        var fields = route.Fields.Count > 0 ? route.Fields : CommonFields;
        foreach (var field in fields)
        {
            var others = string.Concat(fields.Where(f => f != field).Select(f => $"\"{f}\":\"x\","));
            foreach (var value in BadValues)
            {
                yield return Send(Json, $"{{{others}\"{field}\":{value}}}");
            }
        }
    }

    private static IEnumerable<string> Parameters(string pattern) => Parameter().Matches(pattern).Select(m => m.Groups[1].Value);

    /// <summary>The pattern with every parameter set to <paramref name="value"/>, or one of them to <paramref name="other"/>.</summary>
    public static string Fill(string pattern, string value, string? parameter = null, string? other = null) =>
        Parameter().Replace(pattern, m => m.Groups[1].Value == parameter ? other! : value);

    [GeneratedRegex(@"\{\*{0,2}([A-Za-z0-9_]+)[^}]*\}")]
    private static partial Regex Parameter();

    public static RouteInfo Parse(JsonElement route) => new(
        route.GetProperty("pattern").GetString()!,
        [.. route.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!)],
        [.. route.GetProperty("fields").EnumerateArray().Select(f => f.GetString()!)]);
}
