using System.CommandLine;
using System.Globalization;
using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Tokens;
using DiveAspire.Topology;

namespace DiveAspire.Cli.Commands;

/// <summary><c>dive token mint</c>: a signed development token for the process runtime (like dotnet user-jwts).</summary>
public static class TokenCommands
{
    public static Command Create(CliContext cli)
    {
        var instance = new Option<string>("--instance") { Description = "Issuing instance (ISO3 code)", DefaultValueFactory = _ => "usa" };
        var user = new Option<string>("--user") { Description = "User (uniqueID and preferred_username)", Required = true };
        var clearance = new Option<string>("--clearance") { Description = "Clearance claim", DefaultValueFactory = _ => "SECRET" };
        clearance.AcceptOnlyFromAmong(DevTokenMinter.Clearances);
        var ttl = new Option<string>("--ttl") { Description = "Lifetime such as 90s, 15m, 2h", DefaultValueFactory = _ => "15m" };
        var country = new Option<string?>("--country") { Description = "countryOfAffiliation (default: the issuing instance)" };
        var coi = new Option<string[]>("--coi") { Description = "acpCOI values (repeatable)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["NATO"] };
        var role = new Option<string[]>("--role")
        {
            Description = "Realm role (repeatable), e.g. dive-admin: an admin of the issuing instance's realm (of the whole federation for the hub's)",
            DefaultValueFactory = _ => [],
        };

        var mint = new Command("mint", "Print a token signed with the AppHost's development key (process runtime only)")
        {
            instance, user, clearance, ttl, country, coi, role,
        };
        mint.SetAction(parse =>
        {
            var issuer = NatoCatalog.Get(parse.GetValue(instance));
            var userName = ValidUser(parse.GetValue(user));
            var lifetime = ParseDuration(parse.GetValue(ttl)!);
            var cois = ValidCois(parse.GetValue(coi));
            var countryCode = parse.GetValue(country) is { } c ? NatoCatalog.Get(c).Code : null;
            var key = Environment.GetEnvironmentVariable("DIVE_DEV_SIGNING_KEY") is { Length: > 0 } fromEnv
                ? fromEnv
                : AppHostSecrets.Parameter(Federation.DevSigningKeyParameter)
                    ?? throw new CliException("No development signing key yet: run './dive up' once (process runtime) so the AppHost generates it, or set DIVE_DEV_SIGNING_KEY.");
            var jti = Guid.NewGuid().ToString();
            var token = DevTokenMinter.Mint(new DevTokenMinter.Request(issuer, userName, parse.GetValue(clearance)!, lifetime, countryCode, cois, jti,
                Roles: parse.GetValue(role)), key);
            if (parse.GetValue(CliContext.JsonOption))
            {
                cli.WriteJson(new { token, jti, issuer = Federation.Issuer(issuer), expiresAt = DateTimeOffset.UtcNow.Add(lifetime) });
            }
            else
            {
                cli.Out.WriteLine(token);
            }
            return ExitCodes.Ok;
        });
        return new Command("token", "Development tokens") { mint };
    }

    public static readonly TimeSpan MinTtl = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxTtl = TimeSpan.FromHours(24);

    /// <summary>"90s", "15m", "2h", "1d" or a plain number of seconds, from 1 s to 24 h (no exponent, sign, NaN or infinity).</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var usage = $"--ttl must be a duration from 1s to 24h such as 90s, 15m or 2h (got '{text}')";
        var t = text.Trim().ToLowerInvariant();
        var (number, unit) = t.Length > 0 && char.IsLetter(t[^1]) ? (t[..^1], t[^1]) : (t, 's');
        if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            throw new CliException(usage + ".", ExitCodes.Usage);
        }
        var seconds = unit switch
        {
            's' => value,
            'm' => value * 60,
            'h' => value * 3600,
            'd' => value * 86400,
            _ => throw new CliException($"{usage}: unknown unit '{unit}' (use s, m, h or d).", ExitCodes.Usage),
        };
        return seconds >= (decimal)MinTtl.TotalSeconds && seconds <= (decimal)MaxTtl.TotalSeconds
            ? TimeSpan.FromSeconds((double)seconds)
            : throw new CliException(usage + ".", ExitCodes.Usage);
    }

    /// <summary>A user name a realm could issue: 1 to 128 letters, digits, '.', '_', '-' or '@'.</summary>
    public static string ValidUser(string? text) =>
        text is { Length: > 0 and <= 128 } && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@')
            ? text
            : throw new CliException($"--user must be 1 to 128 letters, digits, '.', '_', '-' or '@' (got '{Printable(text)}').", ExitCodes.Usage);

    /// <summary>COI names: 1 to 64 letters, digits, '.', '_' or '-' (what the backend accepts on an upload).</summary>
    public static string[] ValidCois(string[]? values) =>
        (values ?? []).All(v => v is { Length: > 0 and <= 64 } && v.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            ? values ?? []
            : throw new CliException($"--coi values must be 1 to 64 letters, digits, '.', '_' or '-' (got '{Printable(string.Join(' ', values!))}').", ExitCodes.Usage);

    /// <summary>Echoes a bad value on one line: control characters are shown as '?'.</summary>
    private static string Printable(string? text) => new([.. (text ?? "").Take(80).Select(c => char.IsControl(c) ? '?' : c)]);
}
