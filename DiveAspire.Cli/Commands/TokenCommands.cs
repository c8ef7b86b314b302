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
            var lifetime = ParseDuration(parse.GetValue(ttl)!);
            var countryCode = parse.GetValue(country) is { } c ? NatoCatalog.Get(c).Code : null;
            var key = Environment.GetEnvironmentVariable("DIVE_DEV_SIGNING_KEY") is { Length: > 0 } fromEnv
                ? fromEnv
                : AppHostSecrets.Parameter(Federation.DevSigningKeyParameter)
                    ?? throw new CliException("No development signing key yet: run './dive up' once (process runtime) so the AppHost generates it, or set DIVE_DEV_SIGNING_KEY.");
            var jti = Guid.NewGuid().ToString();
            var token = DevTokenMinter.Mint(new DevTokenMinter.Request(issuer, parse.GetValue(user)!, parse.GetValue(clearance)!, lifetime, countryCode, parse.GetValue(coi), jti,
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

    /// <summary>"90s", "15m", "2h", "1d" or a plain number of seconds.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        var (number, unit) = t.Length > 0 && char.IsLetter(t[^1]) ? (t[..^1], t[^1]) : (t, 's');
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            throw new CliException($"'{text}' is not a duration such as 90s, 15m or 2h.", ExitCodes.Usage);
        }
        var result = unit switch
        {
            's' => TimeSpan.FromSeconds(value),
            'm' => TimeSpan.FromMinutes(value),
            'h' => TimeSpan.FromHours(value),
            'd' => TimeSpan.FromDays(value),
            _ => throw new CliException($"'{text}' has an unknown unit (use s, m, h or d).", ExitCodes.Usage),
        };
        return result <= TimeSpan.FromDays(1) ? result : throw new CliException("A development token lives at most 1 day.", ExitCodes.Usage);
    }
}
