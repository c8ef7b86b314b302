using Aspire.Hosting.ApplicationModel;
using System.Diagnostics;
using System.Net;
using DiveAspire.Backend.Revocation;
using DiveAspire.Topology;
using Microsoft.Extensions.Configuration;
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
    public async Task A_logout_on_the_joined_spoke_is_acknowledged_through_the_hub_and_refused_on_both_within_one_second()
    {
        var user = "testuser-rou-" + Guid.NewGuid().ToString("N")[..8];
        var token = join.Hub.Mint("rou", user);
        using var usa = join.Hub.Backend("usa", token);
        using var rou = join.Spoke.Backend("rou", token);
        using (var accepted = await usa.GetAsync("/api/auth/whoami"))
        {
            // The hub trusts the realm of the remote spoke it allowed.
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }
        var (status, body) = await PostAsync(rou, "/api/auth/logout", """{"reason":"relay test"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        // The hub's own answer: it wrote the revocation (the spoke's store user cannot).
        Assert.Equal("USA", body.GetProperty("instance").GetString());
        var acknowledged = Stopwatch.StartNew();
        var onSpoke = await EventuallyAsync(async () => (await rou.GetAsync("/api/auth/whoami")).StatusCode == HttpStatusCode.Unauthorized, "the spoke refuses the token", TimeSpan.FromSeconds(1), pollMs: 5);
        var onHub = await EventuallyAsync(async () => (await usa.GetAsync("/api/auth/whoami")).StatusCode == HttpStatusCode.Unauthorized, "the hub refuses the token", TimeSpan.FromSeconds(1), pollMs: 5);
        output.WriteLine($"after the hub's acknowledgement (relayed by ROU): refused on ROU after {onSpoke.TotalMilliseconds:F0} ms, then on USA after {onHub.TotalMilliseconds:F0} ms (total {acknowledged.ElapsedMilliseconds} ms)");

        // The hub's record names the backend that relayed it.
        await using var admin = await join.Hub.ConnectAsync("redis-blacklist");
        var record = System.Text.Json.JsonDocument.Parse((string)(await admin.GetDatabase().StringGetAsync($"user-revoked:ROU:{user}"))!).RootElement;
        Assert.Equal("ROU", record.GetProperty("revokedByInstance").GetString());
        Assert.Equal("relay test", record.GetProperty("reason").GetString());
        // No token in either AppHost's logs (the backends' consoles included).
        Assert.DoesNotContain(join.Hub.Logs.Lines.Concat(join.Spoke.Logs.Lines), line => line.Message.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_spoke_cannot_use_the_relay_to_lift_or_shorten_a_revocation()
    {
        var victim = "testuser-rou-" + Guid.NewGuid().ToString("N")[..8];
        var victimToken = join.Hub.Mint("rou", victim);
        using var hubAdmin = join.Hub.Backend("usa", join.Hub.MintAdmin("usa"));
        var (status, _) = await PostAsync(hubAdmin, "/api/auth/revoke", $$"""{"uniqueID":"{{victim}}","realm":"ROU","ttlSeconds":3600}""");
        Assert.Equal(HttpStatusCode.OK, status);

        // ROU's own admin, through its spoke, asks for a 1 s revocation of the same user: the hub keeps the longer one.
        using var spokeAdmin = join.Spoke.Backend("rou", join.Hub.MintAdmin("rou"));
        var (shortened, body) = await PostAsync(spokeAdmin, "/api/auth/revoke", $$"""{"uniqueID":"{{victim}}","realm":"ROU","ttlSeconds":1}""");
        Assert.Equal(HttpStatusCode.OK, shortened);
        Assert.True(body.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(55), $"the hub answered {body}");
        // A jti's revocation is the hub realm admin's: the hub's authorization applies to relayed requests too.
        var (blacklisted, refusal) = await PostAsync(spokeAdmin, "/api/auth/blacklist-token", """{"jti":"someone-elses-jti","exp":1}""");
        Assert.Equal(HttpStatusCode.Forbidden, blacklisted);
        Assert.Equal("Forbidden", refusal.GetProperty("error").GetString());

        await Task.Delay(TimeSpan.FromSeconds(2));
        await using var admin = await join.Hub.ConnectAsync("redis-blacklist");
        Assert.True(await admin.GetDatabase().KeyTimeToLiveAsync($"user-revoked:ROU:{victim}") > TimeSpan.FromMinutes(55));
        using var onHub = join.Hub.Backend("usa", victimToken);
        using var onSpoke = join.Spoke.Backend("rou", victimToken);
        Assert.Equal(HttpStatusCode.Unauthorized, (await onHub.GetAsync("/api/auth/whoami")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await onSpoke.GetAsync("/api/auth/whoami")).StatusCode);
    }

    [Fact]
    public async Task A_relay_credential_that_is_forged_or_issued_for_another_token_names_nobody_but_the_revocation_stands()
    {
        // Review R8: a bad label must not cost the revocation (a spoke whose clock drifted would lose every logout), and
        // it must not put another backend's name in the record either.
        var relay = RelayCredentialsOfRou(join.Hub.Secrets.FederationKey);
        var forgedKey = RelayCredentialsOfRou(new string('k', 64));
        await using var admin = await join.Hub.ConnectAsync("redis-blacklist");
        async Task<string?> RevokedByAsync(string user) => System.Text.Json.JsonDocument.Parse(
            (string)(await admin.GetDatabase().StringGetAsync($"user-revoked:ROU:{user}"))!).RootElement.GetProperty("revokedByInstance").GetString();
        foreach (var why in new[] { "issued for another token", "issued for another endpoint", "signed with another key", "garbage" })
        {
            var user = "testuser-rou-" + Guid.NewGuid().ToString("N")[..8];
            var token = join.Hub.Mint("rou", user);
            var credential = why switch
            {
                "issued for another token" => relay.Issue(join.Hub.Mint("rou", user + "x"), "/api/auth/logout")!,
                "issued for another endpoint" => relay.Issue(token, "/api/auth/revoke")!,
                "signed with another key" => forgedKey.Issue(token, "/api/auth/logout")!,
                _ => "garbage",
            };
            using var usa = join.Hub.Backend("usa", token);
            usa.DefaultRequestHeaders.Add(RelayCredentials.Header, credential);
            var (status, _) = await PostAsync(usa, "/api/auth/logout");
            Assert.True(status == HttpStatusCode.OK, $"credential {why}: {status}");
            Assert.Equal("USA", await RevokedByAsync(user));
        }
        // The credential for this token and endpoint is recorded as ROU's.
        var relayed = "testuser-rou-" + Guid.NewGuid().ToString("N")[..8];
        var relayedToken = join.Hub.Mint("rou", relayed);
        using var hub = join.Hub.Backend("usa", relayedToken);
        hub.DefaultRequestHeaders.Add(RelayCredentials.Header, relay.Issue(relayedToken, "/api/auth/logout"));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(hub, "/api/auth/logout")).Status);
        Assert.Equal("ROU", await RevokedByAsync(relayed));
    }

    /// <summary>
    /// Review R2: a spoke operator mints tokens for ever new users of its realm (BEL here, allowed by the hub and used by no
    /// other test) and logs each out at the hub; every one has its own client window, but the hub's realm-wide window
    /// stops them with 429 while the hub realm's and other realms' revocations go on.
    /// </summary>
    [Fact]
    public async Task A_realm_cannot_fill_the_store_through_the_hub_with_ever_new_users()
    {
        var statuses = new List<HttpStatusCode>();
        var refused = default(System.Text.Json.JsonElement?);
        for (var i = 0; i < HubAppHost.RealmRevocationMax * 3 && refused is null; i++)
        {
            using var bel = join.Hub.Backend("usa", join.Hub.Mint("bel", $"flood-{Guid.NewGuid():N}"[..20]));
            var (status, body) = await PostAsync(bel, "/api/auth/logout");
            statuses.Add(status);
            if (status == HttpStatusCode.TooManyRequests)
            {
                refused = body;
            }
        }
        output.WriteLine($"logouts of new BEL users at the hub: {statuses.Count(s => s == HttpStatusCode.OK)} acknowledged, then {(int)statuses[^1]}");
        Assert.NotNull(refused);
        Assert.Equal("Too Many Requests", refused!.Value.GetProperty("error").GetString());
        Assert.All(statuses.SkipLast(1), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HubAppHost.RealmRevocationMax, statuses.Count - 1);
        // Other realms are not held up by BEL's flood: the hub's, and ROU's through its spoke.
        using var usa = join.Hub.Backend("usa", join.Hub.Mint("usa", NewUser()));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/logout")).Status);
        using var rou = join.Spoke.Backend("rou", join.Hub.Mint("rou", "testuser-rou-" + Guid.NewGuid().ToString("N")[..8]));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(rou, "/api/auth/logout")).Status);
    }

    /// <summary>What ROU's backend signs its relays with, given a federation key.</summary>
    private static RelayCredentials RelayCredentialsOfRou(string federationKey) => new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Dive:FederationKey"] = federationKey }).Build(),
        new DiveAspire.Backend.Instance.InstanceInfo("ROU", "spoke", ["USA", "ROU"], "process", "USA"), TimeProvider.System);

    [Fact]
    public async Task With_the_hubs_backend_down_a_logout_on_the_spoke_is_a_503_never_an_acknowledgement()
    {
        var token = join.Hub.Mint("rou", "testuser-rou-" + Guid.NewGuid().ToString("N")[..8]);
        using var rou = join.Spoke.Backend("rou", token);
        await join.Hub.ExecuteCommandAsync("backend-usa", KnownResourceCommands.StopCommand, TimeSpan.FromMinutes(1));
        try
        {
            await EventuallyAsync(async () =>
            {
                try
                {
                    using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                    await probe.GetAsync(join.Hub.Backend("usa").BaseAddress);
                    return false;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return true;
                }
            }, "the hub's backend stopped", TimeSpan.FromMinutes(1));
            var watch = Stopwatch.StartNew();
            var (status, body) = await PostAsync(rou, "/api/auth/logout");
            output.WriteLine($"hub down: the spoke answered {(int)status} after {watch.ElapsedMilliseconds} ms");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("Service Unavailable", body.GetProperty("error").GetString());
            Assert.Contains("may not have been recorded", Message(body));
            // Not revoked anywhere: the token still works on the spoke.
            Assert.Equal(HttpStatusCode.OK, (await rou.GetAsync("/api/auth/whoami")).StatusCode);
        }
        finally
        {
            await join.Hub.StartAgainAsync("backend-usa", KnownResourceCommands.StartCommand, TimeSpan.FromMinutes(3));
        }
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(rou, "/api/auth/logout")).Status);
    }

    /// <summary>
    /// The hub's 503 (its store refused the write) carries Retry-After: 5; the relay's retry used to wait for it, past its
    /// 5 s total timeout, so the caller got "the hub's backend did not answer" after 5 s instead of the hub's answer.
    /// </summary>
    [Fact]
    public async Task When_the_hubs_store_refuses_a_relayed_logout_the_spokes_caller_gets_the_hubs_503_at_once()
    {
        // A hub-realm token (the spoke relays those as it relays its own realm's): its revocations do not count against
        // ROU's realm window, which other tests of this class use.
        var token = join.Hub.Mint("usa", NewUser());
        using var rou = join.Spoke.Backend("rou", token);
        await using var admin = await join.Hub.ConnectAsync("redis-blacklist");
        var store = admin.GetServers()[0];
        var previous = (await store.ConfigGetAsync("min-replicas-to-write")).Single().Value;
        int HubRefusals() => join.Hub.Logs.Lines.Count(l => l.Message.Contains("refused by the shared store: no replica is in sync", StringComparison.Ordinal));
        var refusalsBefore = HubRefusals();
        // The hub's store has no replica: asking for one makes it refuse every write (NOREPLICAS), as an HA primary cut
        // off from its replicas does.
        await store.ConfigSetAsync("min-replicas-to-write", 1);
        try
        {
            var watch = Stopwatch.StartNew();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout") { Content = new StringContent("", System.Text.Encoding.UTF8, "application/json") };
            using var response = await rou.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            output.WriteLine($"store refusing writes: the spoke answered {(int)response.StatusCode} after {watch.ElapsedMilliseconds} ms: {text}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(RevocationStore.NoReplicaInSync, Message(System.Text.Json.JsonDocument.Parse(text).RootElement));
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.True(watch.Elapsed < RevocationRelay.AttemptTimeout, $"the spoke answered after {watch.ElapsedMilliseconds} ms");
            Assert.Equal(HttpStatusCode.OK, (await rou.GetAsync("/api/auth/whoami")).StatusCode);
            // Sent to the hub once: its answer is final, not retried.
            await EventuallyAsync(() => Task.FromResult(HubRefusals() > refusalsBefore), "the hub logs the refusal", TimeSpan.FromSeconds(10));
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(refusalsBefore + 1, HubRefusals());
        }
        finally
        {
            await store.ConfigSetAsync("min-replicas-to-write", previous);
        }
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(rou, "/api/auth/logout")).Status);
    }

    /// <summary>The hub's store at its network address over TLS, as the remote spoke's user; every command available on the
    /// client side, so the server alone decides (its CONFIG probes at connect are refused too).</summary>
    private async Task<ConnectionMultiplexer> ConnectAsRemoteSpokeAsync(string user, string? password)
    {
        var options = ConfigurationOptions.Parse($"{JoinHubFixture.HubHost}:{join.SharedStorePort}");
        options.User = user;
        options.Password = password;
        options.CommandMap = CommandMap.Default;
        options.TieBreaker = "";
        options.AbortOnConnectFail = false;
        options.Ssl = true;
        options.TrustIssuer(join.HubCaCertificate);
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    [Fact]
    public async Task The_joined_spokes_credential_on_the_shared_store_reads_revocations_and_nothing_else()
    {
        var user = HubAppHost.RemoteSpokeUser;
        await using var redis = await ConnectAsRemoteSpokeAsync(user.Name, join.Hub.Secrets.For(user));
        var db = redis.GetDatabase();

        // What it is for: reading revocation keys (the check, the resync, a message's expiry) and hearing their channels.
        var key = $"blacklist:join-test-{Guid.NewGuid():N}";
        Assert.False(await db.KeyExistsAsync(key));
        Assert.Null(await db.KeyTimeToLiveAsync(key));
        await db.ExecuteAsync("SCAN", "0", "MATCH", "user-revoked:*", "COUNT", "10");
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal("dive-v3:token-blacklist"), (_, _) => { });
        // Not a write (the attack test has the rest), nor a record's content (other realms' reasons).
        await Assert.ThrowsAsync<RedisServerException>(() => db.StringSetAsync(key, "{}", TimeSpan.FromSeconds(60)));
        await Assert.ThrowsAsync<RedisServerException>(() => db.StringGetAsync(key));

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

        // The hub has users for the spokes it runs or allows, and no other: DNK (a folder, neither run nor allowed) has none.
        await using var admin = await join.Hub.ConnectAsync("redis-blacklist");
        var users = ((RedisResult[])(await admin.GetDatabase().ExecuteAsync("ACL", "USERS"))!).Select(u => (string)u!).ToList();
        Assert.Contains(user.Name, users);
        Assert.DoesNotContain("backend-bel", users);
        Assert.DoesNotContain("backend-dnk", users);
        Assert.DoesNotContain("backend-dnk-ro", users);
        // The read-only rules (RedisAcl), not a local backend's: a local backend of the hub keeps its write user.
        Assert.Contains("backend-usa", users);
        Assert.DoesNotContain("backend-rou", users);
        Assert.EndsWith(RedisAcl.ReadOnlySuffix, user.Name, StringComparison.Ordinal);
    }

    /// <summary>
    /// Red-team finding H1: the spoke's operator holds the spoke backend's credential on the hub's shared store (the one
    /// its AppHost gives the backend). With it, nothing may lift, shorten, forge or announce a revocation.
    /// </summary>
    [Fact]
    public async Task The_joined_spokes_store_credential_can_neither_lift_nor_forge_a_revocation()
    {
        var store = join.Spoke.App.Services.GetRequiredService<Aspire.Hosting.ApplicationModel.DistributedApplicationModel>().Resources
            .OfType<Aspire.Hosting.ApplicationModel.RemoteSharedStoreResource>().Single();
        var credential = Assert.Single(store.Annotations.OfType<Aspire.Hosting.ApplicationModel.RedisUsersAnnotation>().Single().Users);
        await using var redis = await ConnectAsRemoteSpokeAsync(credential.User.Name, await credential.Password.GetValueAsync(CancellationToken.None));
        var db = redis.GetDatabase();

        // A real revocation of a hub user, made by the hub.
        var victim = NewUser();
        var token = join.Hub.Mint("usa", victim);
        using var usa = join.Hub.Backend("usa", token);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(usa, "/api/auth/logout")).Status);
        var key = $"user-revoked:{victim}";
        await using var admin = await join.Hub.ConnectAsync("redis-blacklist");
        var before = await admin.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.NotNull(before);

        IEnumerable<object[]> attacks =
        [
            ["PEXPIRE", key, 1],
            ["EXPIRE", key, 1],
            ["DEL", key],
            ["UNLINK", key],
            ["SET", key, "{}", "PX", 1],
            ["SET", $"blacklist:forged-{Guid.NewGuid():N}", "{}", "EX", 60],
            ["PUBLISH", "dive-v3:user-revoked", "{}"],
            ["PUBLISH", "dive-v3:token-blacklist", "{}"],
            ["PUBLISH", "authz:invalidate", "{}"],
            ["EVAL", "return redis.call('PEXPIRE', KEYS[1], 1)", 1, key],
        ];
        var accepted = new List<string>();
        foreach (var attack in attacks)
        {
            try
            {
                accepted.Add($"{attack[0]} accepted: {await db.ExecuteAsync((string)attack[0], attack.Skip(1).ToArray())}");
            }
            catch (RedisServerException error) when (error.Message.StartsWith("NOPERM", StringComparison.Ordinal))
            {
            }
        }
        Assert.True(accepted.Count == 0, string.Join("; ", accepted));
        // The revocation is untouched and still enforced on both sides.
        var after = await admin.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.NotNull(after);
        Assert.True(after > TimeSpan.FromSeconds(800), $"the revocation now ends in {after}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await usa.GetAsync("/api/auth/whoami")).StatusCode);
        // The spoke learns the revocation over pub/sub, within the second the federation promises (the attacks above took
        // only milliseconds: a full test run once asked before the message had arrived).
        using var rou = join.Spoke.Backend("rou", token);
        await EventuallyAsync(async () => (await rou.GetAsync("/api/auth/whoami")).StatusCode == HttpStatusCode.Unauthorized,
            "the joined spoke refuses the revoked user's token", TimeSpan.FromSeconds(1), pollMs: 5);
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
        var secrets = new[] { join.Hub.Secrets.For(HubAppHost.RemoteSpokeUser), join.Hub.Secrets.FederationKey, join.Hub.Secrets.DevSigningKey };
        var lines = join.Hub.Logs.Lines.Concat(join.Spoke.Logs.Lines).Select(l => l.Message).ToList();
        Assert.NotEmpty(lines);
        Assert.All(secrets, secret => Assert.DoesNotContain(lines, line => line.Contains(secret, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_plaintext_client_at_the_stores_network_address_cannot_log_in_even_with_the_password()
    {
        // The attack (red team M2): whoever sees this traffic sees the password, so a plaintext client that has it must get
        // nowhere. It connects at the machine's network address and logs in as the remote spoke with its real password.
        var user = HubAppHost.RemoteSpokeUser;
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
