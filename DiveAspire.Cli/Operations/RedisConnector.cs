using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using DiveAspire.Cli.Connections;
using DiveAspire.Topology;
using DiveAspire.Topology.Tls;
using StackExchange.Redis;

namespace DiveAspire.Cli.Operations;

/// <summary>
/// Opens a connection to one Redis as the target's ACL user and turns every failure into one line: unreachable (naming
/// host:port), an authentication failure (naming the secret to fix) or a refused command (NOPERM, naming the user and
/// the command). The password never appears in a message.
/// </summary>
public static partial class RedisConnector
{
    public const string ClientName = "dive-cli";
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(3);

    public static async Task<ConnectionMultiplexer> ConnectAsync(RedisTarget target, CancellationToken ct = default)
    {
        RefusePlaintextPasswordBeyondLoopback(target);
        var options = new ConfigurationOptions
        {
            EndPoints = { { target.Host, target.Port } },
            User = target.User,
            Password = target.Password,
            // No tie-breaker key or configuration channel, and (but for admin) no CONFIG or CLUSTER at connect: the
            // ACL refuses them, and a refused command belongs in the ACL log only when something is wrong.
            TieBreaker = "",
            ConfigurationChannel = "",
            AllowAdmin = true,
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            ConnectTimeout = (int)ConnectTimeout.TotalMilliseconds,
            SyncTimeout = 5000,
            AsyncTimeout = 5000,
            ClientName = ClientName,
        };
        if (target.TlsCaCertificate is { } ca)
        {
            // Validated against the store's CA alone and its host name, never "accept any certificate".
            options.Ssl = true;
            options.CertificateValidation += PinnedCertificateAuthority.Validator(ca);
        }
        if (target.User != RedisAcl.AdminUser)
        {
            options.CommandMap = CommandMap.Create(["CONFIG", "CLUSTER"], available: false);
        }
        ConnectionMultiplexer? connection = null;
        try
        {
            connection = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(ct).ConfigureAwait(false);
            // The handshake can succeed while commands are refused (no password given): ask once to know.
            await connection.GetDatabase().PingAsync().WaitAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or SocketException)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            throw Describe(target, ex);
        }
    }

    /// <summary>
    /// A password never leaves this machine in plain TCP by accident: beyond loopback the CLI speaks TLS (the CA from the
    /// AppHost's tls-clients.json or DIVE_REDIS_CA_&lt;LABEL&gt;) unless DIVE_REDIS_PLAINTEXT=true says the network is trusted.
    /// </summary>
    private static void RefusePlaintextPasswordBeyondLoopback(RedisTarget target)
    {
        if (target.TlsCaCertificate is not null || target.Password is null || IsLoopback(target.Host)
            || string.Equals(Environment.GetEnvironmentVariable(TlsClients.PlaintextVariable), "true", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        throw new CliException($"{target} is beyond loopback and no CA certificate is known for it ({TlsClients.DefaultPath()} names none): " +
            $"refusing to send the password in plain TCP. Give the CA with {TlsClients.CaVariable(target.Spec)}=PATH, or {TlsClients.PlaintextVariable}=true on a network you trust.");
    }

    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));

    /// <summary>Sends PING without AUTH on a raw socket: true when Redis refuses it (NOAUTH), i.e. a password is required.</summary>
    public static async Task<bool> RequiresAuthenticationAsync(RedisTarget target, CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ConnectTimeout);
        using var client = new TcpClient();
        await client.ConnectAsync(target.Host, target.Port, timeout.Token).ConfigureAwait(false);
        Stream stream = client.GetStream();
        if (target.TlsCaCertificate is { } ca)
        {
            var tls = new SslStream(stream, leaveInnerStreamOpen: false, PinnedCertificateAuthority.Validator(ca));
            try
            {
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = target.Host }, timeout.Token).ConfigureAwait(false);
            }
            catch (System.Security.Authentication.AuthenticationException ex)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
                throw new IOException($"{target} did not present a certificate that validates against {ca}", ex);
            }
            stream = tls;
        }
        await using var _ = stream;
        await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token).ConfigureAwait(false);
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
        var reply = Encoding.ASCII.GetString(buffer, 0, read);
        return reply.StartsWith("-NOAUTH", StringComparison.Ordinal) || reply.StartsWith("-WRONGPASS", StringComparison.Ordinal)
            || reply.StartsWith("-DENIED", StringComparison.Ordinal);
    }

    public static CliException Describe(RedisTarget target, Exception ex)
    {
        var text = Flatten(ex);
        if (NoPermission().Match(text) is { Success: true } refused)
        {
            var what = refused.Groups["command"].Success ? $"'{refused.Groups["command"].Value}'" : "a command on a key or channel it does not own";
            return new CliException($"{target} refused {what} to user '{target.User}' (NOPERM): this user may not do that; " +
                (target.User == RedisAcl.AdminUser ? "the Redis ACL file is not the one the AppHost generates (restart it)." : "see the users table in README.md (Secrets)."));
        }
        if (text.Contains("NOAUTH", StringComparison.Ordinal) || text.Contains("WRONGPASS", StringComparison.Ordinal)
            || text.Contains("invalid password", StringComparison.OrdinalIgnoreCase)
            || (ex is RedisConnectionException rce && rce.FailureType == ConnectionFailureType.AuthenticationFailure))
        {
            return target.Password is null
                ? new CliException($"{target} requires a password for user '{target.User}' and none was found ({target.PasswordSource}).")
                : new CliException($"{target} refused user '{target.User}' and its password (WRONGPASS/NOAUTH): fix {target.PasswordSource}.");
        }
        if (text.Contains("without any password configured", StringComparison.OrdinalIgnoreCase))
        {
            return new CliException($"{target} has no password configured but one was sent (from {target.PasswordSource}): it is not the DIVE Redis you expect, or it was started without requirepass.");
        }
        if (target.TlsCaCertificate is { } ca && Inner<System.Security.Authentication.AuthenticationException>(ex) is not null)
        {
            return new CliException($"{target} speaks TLS and its certificate did not validate against {ca} (another CA, or not issued for '{target.Host}').");
        }
        if (text.Contains("NOREPLICAS", StringComparison.Ordinal))
        {
            // The HA store's primary counts no replica within min-replicas-max-lag: reachable, but it takes no write.
            return new CliException($"{target} refused the write: no replica is in sync (NOREPLICAS, min-replicas-to-write); the refused command " +
                "wrote nothing, earlier steps of a multi-step command stand; check the replicas with './dive redis sentinel status', then run it again.");
        }
        var reason = ex is RedisTimeoutException or TimeoutException || text.Contains("timeout", StringComparison.OrdinalIgnoreCase)
            ? "timed out"
            : "connection refused or closed";
        return new CliException($"{target.Name} is unreachable at {target.Endpoint} ({reason}). Is it running? ('./dive up', or check the port with 'dive ports')");
    }

    private static T? Inner<T>(Exception ex) where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }
        return null;
    }

    [GeneratedRegex(@"NOPERM[^']*(?:'(?<command>[^']+)' command)?")]
    private static partial Regex NoPermission();

    private static string Flatten(Exception ex)
    {
        var builder = new StringBuilder();
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            builder.Append(e.Message).Append(' ');
        }
        return builder.ToString();
    }
}
