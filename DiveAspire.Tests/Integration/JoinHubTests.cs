using System.Diagnostics;
using System.Net;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;
using static DiveAspire.Tests.Integration.RevocationTestSupport;

namespace DiveAspire.Tests.Integration;

/// <summary>A spoke AppHost joining a hub AppHost that runs elsewhere (<c>./dive up --join</c>; here: both on this machine).</summary>
[Trait("Category", "Federation")]
public sealed partial class JoinHubTests(JoinHubFixture join, ITestOutputHelper output) : IClassFixture<JoinHubFixture>
{
    private static string NewUser() => $"testuser-usa-{Guid.NewGuid():N}"[..24];

    [Fact]
    public void The_spoke_runs_neither_the_hub_nor_a_shared_store_and_reaches_the_hubs_at_its_network_address()
    {
        var spoke = join.Spoke.App.Services.GetRequiredService<Aspire.Hosting.ApplicationModel.DistributedApplicationModel>().Resources.Select(r => r.Name).ToList();
        Assert.Contains("backend-rou", spoke);
        Assert.DoesNotContain("backend-usa", spoke);
        Assert.DoesNotContain("redis-usa", spoke);
        var store = join.Spoke.App.Services.GetRequiredService<Aspire.Hosting.ApplicationModel.DistributedApplicationModel>().Resources.Single(r => r.Name == "redis-blacklist");
        Assert.Equal($"{JoinHubFixture.HubHost}:{join.SharedStorePort}", Assert.IsType<Aspire.Hosting.ApplicationModel.RemoteSharedStoreResource>(store).Address);
        output.WriteLine($"the spoke joined the hub at {JoinHubFixture.HubHost}");
    }

    [Fact]
    public async Task A_hub_token_is_accepted_on_the_joined_spoke_and_a_logout_on_the_hub_is_rejected_there_within_one_second()
    {
        var samples = new List<double>();
        for (var round = 0; round < 5; round++)
        {
            var token = join.Hub.Mint("usa", NewUser());
            using var usa = join.Hub.Backend("usa", token);
            using var rou = join.Spoke.Backend("rou", token);
            using (var accepted = await rou.GetAsync("/api/auth/whoami"))
            {
                Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
            }

            var watch = Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/logout")).Status);
            while (true)
            {
                using var response = await rou.GetAsync("/api/auth/whoami");
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    break;
                }
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "the hub's revocation never reached the joined spoke");
            }
            samples.Add(watch.Elapsed.TotalMilliseconds);
        }
        samples.Sort();
        output.WriteLine($"logout on the hub AppHost -> 401 on the joined spoke (includes the logout call): median {samples[samples.Count / 2]:F1} ms, max {samples[^1]:F1} ms");
        Assert.All(samples, ms => Assert.True(ms < 1000, $"propagation took {ms:F0} ms"));
    }

    [Fact]
    public async Task A_spoke_token_revoked_on_the_joined_spoke_is_rejected_by_the_hub()
    {
        var token = join.Hub.Mint("rou", "testuser-rou-" + Guid.NewGuid().ToString("N")[..8]);
        using var usa = join.Hub.Backend("usa", token);
        using var rou = join.Spoke.Backend("rou", token);
        using (var accepted = await usa.GetAsync("/api/auth/whoami"))
        {
            // The hub trusts the realm of the remote spoke it allowed.
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(rou, "/api/auth/logout")).Status);
        await EventuallyAsync(async () =>
        {
            using var response = await usa.GetAsync("/api/auth/whoami");
            return response.StatusCode == HttpStatusCode.Unauthorized;
        }, "the spoke's logout reached the hub", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_joined_spokes_credential_on_the_shared_store_can_do_no_more_than_a_local_backends()
    {
        var user = join.Hub.RemoteSpokeUser;
        var options = ConfigurationOptions.Parse($"{JoinHubFixture.HubHost}:{join.SharedStorePort}");
        options.User = user.Name;
        options.Password = join.Hub.Secrets.For(user);
        // Every command available on the client side: the server alone decides (its CONFIG probes at connect are refused too).
        options.CommandMap = CommandMap.Default;
        options.TieBreaker = "";
        options.AbortOnConnectFail = false;
        options.Ssl = true;
        options.TrustIssuer(join.HubCaCertificate);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        var db = redis.GetDatabase();

        // What it is for: revocation keys and their channel.
        var key = $"blacklist:join-test-{Guid.NewGuid():N}";
        Assert.True(await db.StringSetAsync(key, "{}", TimeSpan.FromSeconds(60)));
        await db.PublishAsync(RedisChannel.Literal("dive-v3:token-blacklist"), "{}");

        IEnumerable<string[]> refused =
        [
            .. RedisAcl.AdminOnlyCommands,
            ["KEYS", "*"],
            ["GET", "dive-v3:anything"],
            ["SET", "otp:pending:x", "1"],
            ["CONFIG", "GET", "*"],
        ];
        foreach (var command in refused)
        {
            var error = await Assert.ThrowsAsync<RedisServerException>(() => db.ExecuteAsync(command[0], command.Skip(1).Cast<object>().ToArray()));
            // DEBUG and MODULE are refused to every non-local client before the ACL is asked (enable-debug/module-command).
            Assert.True(error.Message.StartsWith("NOPERM", StringComparison.Ordinal)
                || (command[0] is "DEBUG" or "MODULE" && error.Message.StartsWith($"ERR {command[0]} command not allowed", StringComparison.Ordinal)),
                $"{string.Join(' ', command)}: {error.Message}");
        }

        // The hub has users for the spokes it runs or allows, and no other: BEL and DNK (folders, neither run nor allowed) have none.
        await using var admin = await join.Hub.ConnectAsync("redis-blacklist");
        var users = ((RedisResult[])(await admin.GetDatabase().ExecuteAsync("ACL", "USERS"))!).Select(u => (string)u!).ToList();
        Assert.Contains(user.Name, users);
        Assert.DoesNotContain("backend-bel", users);
        Assert.DoesNotContain("backend-dnk", users);
        // Exactly the rules a local backend gets (RedisAcl), not an operator's or admin's.
        Assert.Equal(RedisAcl.Backend(RedisStoreSpec.Blacklist, join.Hub.Topology.Hub).Rules, user.Rules);
    }

    [Fact]
    public async Task The_joined_spoke_searches_the_hub_at_its_join_address()
    {
        using var rou = join.Spoke.Backend("rou", join.Hub.Mint("rou", "searcher-rou"));
        using var response = await rou.GetAsync("/api/resources/federated-search?q=report");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var usa = body.GetProperty("instances").EnumerateArray().Single(i => i.GetProperty("instance").GetString() == "USA");
        Assert.Equal("ok", usa.GetProperty("status").GetString());
    }

    [Fact]
    public void No_secret_the_hub_handed_over_is_in_either_apphosts_log()
    {
        var secrets = new[] { join.Hub.Secrets.For(join.Hub.RemoteSpokeUser), join.Hub.Secrets.FederationKey, join.Hub.Secrets.DevSigningKey };
        var lines = join.Hub.Logs.Lines.Concat(join.Spoke.Logs.Lines).Select(l => l.Message).ToList();
        Assert.NotEmpty(lines);
        Assert.All(secrets, secret => Assert.DoesNotContain(lines, line => line.Contains(secret, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_plaintext_client_at_the_stores_network_address_cannot_log_in_even_with_the_password()
    {
        // The attack (red team M2): whoever sees this traffic sees the password, so a plaintext client that has it must get
        // nowhere. It connects at the machine's network address and logs in as the remote spoke with its real password.
        var user = join.Hub.RemoteSpokeUser;
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(JoinHubFixture.HubHost, join.SharedStorePort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"AUTH {user.Name} {join.Hub.Secrets.For(user)}\r\nPING\r\n"));
        var reply = "";
        var buffer = new byte[512];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            while (!reply.Contains("PONG", StringComparison.Ordinal) && await stream.ReadAsync(buffer, deadline.Token) is var read and > 0)
            {
                reply += System.Text.Encoding.ASCII.GetString(buffer, 0, read);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // Reset by the server (what a TLS-only port does to a plaintext client), or no reply at all.
        }
        output.WriteLine($"plaintext reply: '{reply.Trim()}'");
        Assert.DoesNotContain("+OK", reply, StringComparison.Ordinal);
        Assert.DoesNotContain("PONG", reply, StringComparison.Ordinal);
    }
}
