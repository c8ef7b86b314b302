using System.Net;
using System.Security.Authentication;
using Aspire.Hosting;
using DiveAspire.AppHost.Tls;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// The hub's shared store listens beyond loopback, so it speaks TLS only (red team M2): the attack itself is
/// <see cref="A_plaintext_client_at_the_stores_network_address_cannot_log_in_even_with_the_password"/>; these check
/// who can still reach it (clients validating against the hub's CA) and who cannot.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class JoinHubTests
{
    private ConfigurationOptions RemoteSpokeOptions(string trustedCa)
    {
        var user = HubAppHost.RemoteSpokeUser;
        var options = ConfigurationOptions.Parse($"{JoinHubFixture.HubHost}:{join.SharedStorePort}");
        options.User = user.Name;
        options.Password = join.Hub.Secrets.For(user);
        options.CommandMap = CommandMap.Create(["CONFIG", "CLUSTER"], available: false);
        options.TieBreaker = "";
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 1;
        options.ConnectTimeout = 5000;
        options.Ssl = true;
        options.TrustIssuer(trustedCa);
        return options;
    }

    [Fact]
    public async Task A_tls_client_validating_against_the_hubs_ca_logs_in_at_the_network_address()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(RemoteSpokeOptions(join.HubCaCertificate));
        Assert.True(await redis.GetDatabase().PingAsync() < TimeSpan.FromSeconds(5));
        // The certificate names the address the spoke dialled (checked by the client, not only the chain).
        Assert.True(redis.IsConnected);
        // The hub shows the CA's fingerprint for the spoke's operator to check (the fixture's spoke joined with it).
        var fingerprint = CertificateFingerprint.Sha256(join.HubCaCertificate);
        Assert.Contains(join.Hub.Logs.Lines, l => l.Message.Contains(fingerprint, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_trusting_another_ca_is_refused_by_its_own_validation()
    {
        var other = Directory.CreateTempSubdirectory("dive-other-ca-").FullName;
        try
        {
            var otherCa = DevelopmentCertificateAuthority.LoadOrCreate(other);
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectionMultiplexer.ConnectAsync(RemoteSpokeOptions(otherCa.CertificatePath)));
            output.WriteLine($"refused: {error.Message}");
            Assert.Contains(Flatten(error), e => e is AuthenticationException);
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    [Fact]
    public async Task A_store_impostor_with_a_certificate_of_another_ca_is_refused_by_a_client_trusting_the_hubs()
    {
        // What a joined spoke's backend does (StackExchange.Redis trusting only the hub's CA): an impostor on the path,
        // with a certificate for the right names from its own CA, never gets the spoke's password.
        var other = Directory.CreateTempSubdirectory("dive-impostor-").FullName;
        try
        {
            var otherCa = DevelopmentCertificateAuthority.LoadOrCreate(other);
            var certificate = otherCa.Issue(other, "impostor", SubjectNames.Create(["localhost"], [IPAddress.Loopback]));
            using var impostor = new PlainRedisServer(password: true, aof: false, tls: certificate);
            ConfigurationOptions Options(string ca)
            {
                var options = ConfigurationOptions.Parse(impostor.Endpoint);
                options.User = RedisAcl.AdminUser;
                options.Password = impostor.Password;
                options.AbortOnConnectFail = true;
                options.ConnectRetry = 1;
                options.Ssl = true;
                options.TrustIssuer(ca);
                return options;
            }
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectionMultiplexer.ConnectAsync(Options(join.HubCaCertificate)));
            Assert.Contains(Flatten(error), e => e is AuthenticationException);
            // Control: the impostor is a working TLS Redis, refused only for its CA.
            await using var trusting = await ConnectionMultiplexer.ConnectAsync(Options(otherCa.CertificatePath));
            await trusting.GetDatabase().PingAsync();
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    [Fact]
    public async Task The_cli_and_the_dashboard_commands_reach_the_tls_store_against_its_ca()
    {
        using (var env = (await FederationCliEnvironment.SetAsync(join.Hub)).Set("DIVE_DATA_PATH", join.Hub.DataPath))
        {
            var status = (await CliRun.RunAsync(join.Hub.Secrets.AllValues, "redis", "status", "blacklist", "--json")).Expect(0).Json;
            output.WriteLine(status.ToString());
            var health = await CliRun.RunAsync(join.Hub.Secrets.AllValues, "redis", "health", "blacklist");
            output.WriteLine(health.Out + health.Error);
            health.Expect(0);
        }
        await join.Hub.ExecuteCommandAsync("redis-blacklist", RedisResourceCommands.Health, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task The_cli_refuses_to_send_a_password_in_plain_tcp_beyond_loopback_and_reaches_the_store_there_with_its_ca()
    {
        var ca = DiveAspire.Cli.Connections.TlsClients.CaVariable(RedisStoreSpec.Blacklist);
        var noApp = Path.Combine(Path.GetTempPath(), $"dive-no-app-{Guid.NewGuid():N}");
        using (var env = (await FederationCliEnvironment.SetAsync(join.Hub)).Set("DIVE_DATA_PATH", noApp)
            .Set("DIVE_REDIS_ENDPOINT_BLACKLIST", "192.0.2.1:6479").Set(ca, null).Set(DiveAspire.Cli.Connections.TlsClients.PlaintextVariable, null))
        {
            // TEST-NET-1: nothing answers there; the refusal comes before any connection, so no password is sent.
            var refused = (await CliRun.RunAsync(join.Hub.Secrets.AllValues, "redis", "status", "blacklist")).Expect(1);
            Assert.Contains(ca, refused.OneLineError);
        }
        using (var env = (await FederationCliEnvironment.SetAsync(join.Hub)).Set("DIVE_DATA_PATH", noApp)
            .Set("DIVE_REDIS_ENDPOINT_BLACKLIST", $"{JoinHubFixture.HubHost}:{join.SharedStorePort}").Set(ca, join.HubCaCertificate))
        {
            (await CliRun.RunAsync(join.Hub.Secrets.AllValues, "redis", "status", "blacklist", "--json")).Expect(0);
        }
    }

    [Fact]
    public async Task The_exporter_scrapes_the_tls_store_against_its_ca()
    {
        using var http = new HttpClient { BaseAddress = join.Hub.App.GetEndpoint(MonitoringNames.RedisExporter, "http") };
        var target = $"rediss://localhost:{join.SharedStorePort}";
        var metrics = "";
        await RevocationTestSupport.EventuallyAsync(async () =>
        {
            metrics = await http.GetStringAsync($"/scrape?target={Uri.EscapeDataString(target)}");
            return metrics.Contains("redis_up 1", StringComparison.Ordinal);
        }, $"redis_up 1 for {target}", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task No_private_key_or_password_is_in_either_apphosts_process_arguments_or_logs()
    {
        var keys = Directory.GetFiles(Path.GetDirectoryName(join.HubCaCertificate)!, "*.key");
        Assert.Contains(keys, k => k.EndsWith("ca.key", StringComparison.Ordinal));
        // Any line of a key's base64 body would betray it.
        var keyLines = keys.SelectMany(File.ReadAllLines).Where(l => !l.StartsWith("-----", StringComparison.Ordinal) && l.Length > 20).ToList();
        var secrets = join.Hub.Secrets.AllValues.Concat(keyLines).Append("PRIVATE KEY").ToList();

        var commandLines = new List<string>();
        foreach (var app in new FederationFixture[] { join.Hub, join.Spoke })
        {
            var notifications = app.App.Services.GetRequiredService<ResourceNotificationService>();
            foreach (var resource in app.App.Services.GetRequiredService<DistributedApplicationModel>().Resources)
            {
                if (!notifications.TryGetCurrentState(resource.Name, out var state))
                {
                    continue;
                }
                // The arguments as the dashboard shows them, and as the kernel shows them (redis-server rewrites its own).
                if (state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.args")?.Value is System.Collections.IEnumerable args and not string)
                {
                    commandLines.Add($"{resource.Name}: {string.Join(' ', args.Cast<object>())} ");
                }
                if (state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value?.ToString() is { } pid && File.Exists($"/proc/{pid}/cmdline"))
                {
                    commandLines.Add($"{resource.Name} (pid {pid}): {File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ')}");
                }
            }
        }
        var store = Assert.Single(commandLines, l => l.StartsWith("redis-blacklist: ", StringComparison.Ordinal));
        output.WriteLine(store);
        Assert.Contains(" --port 0 ", store);
        Assert.Contains(" --tls-port ", store);
        Assert.Contains(commandLines, l => l.StartsWith("backend-rou (pid", StringComparison.Ordinal));
        var lines = join.Hub.Logs.Lines.Concat(join.Spoke.Logs.Lines).Select(l => l.Message).Concat(commandLines).ToList();
        Assert.All(secrets, secret => Assert.DoesNotContain(lines, line => line.Contains(secret, StringComparison.Ordinal)));
    }

    private static IEnumerable<Exception> Flatten(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
