using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using DiveAspire.Backend.Redis;
using DiveAspire.Cli.Tokens;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;
using StackExchange.Redis;

namespace DiveAspire.Tests.Integration;

/// <summary>
/// The backend's Redis clients come from Aspire's Redis client integration: the real backend binary against real
/// redis-server (and redis-sentinel) processes, its traces sent to a real OTLP receiver.
/// </summary>
public sealed class RedisClientIntegrationTests
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    /// <summary>A backend process on the two Redis servers, exporting its spans to <paramref name="otlp"/>.</summary>
    private static BackendProcess TracedBackend(PlainRedisServer cache, PlainRedisServer blacklist, OtlpTraceReceiver otlp, params (string Key, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__cache"] = cache.BackendConnectionString,
            ["ConnectionStrings__blacklist"] = blacklist.BackendConnectionString,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "backend-usa",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        };
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }
        return new BackendProcess(environment);
    }

    [Fact]
    public async Task Redis_commands_are_spans_in_the_trace_of_the_request_that_ran_them()
    {
        using var cache = new PlainRedisServer(password: true, aof: false);
        using var blacklist = new PlainRedisServer(password: true, aof: false);
        using var otlp = new OtlpTraceReceiver();
        var signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        using var backend = TracedBackend(cache, blacklist, otlp, ("Dive__Auth__DevSigningKey", signingKey));
        await backend.WaitReadyAsync(ReadyTimeout);

        // Rate limited before authorization: the anonymous request's limiter script runs on the instance's Redis.
        using var response = await backend.Http.GetAsync("/api/resources");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        OtlpSpan? request = null;
        OtlpSpan? redisCommand = null;
        await HttpAssertions.EventuallyAsync(() =>
        {
            var spans = otlp.Spans;
            request = spans.FirstOrDefault(s => s.Scope == "Microsoft.AspNetCore" && s.Name.Contains("/api/resources", StringComparison.Ordinal));
            redisCommand = request is null ? null : spans.FirstOrDefault(s => s.TraceId == request.TraceId && IsRedis(s));
            return Task.FromResult(redisCommand is not null);
        }, TimeSpan.FromSeconds(30), "a Redis span in the trace of GET /api/resources");

        Assert.Equal("backend-usa", redisCommand!.Service);
        Assert.NotEqual("", redisCommand.ParentSpanId);
        Assert.Equal(cache.Port.ToString(), redisCommand.Attributes.GetValueOrDefault("server.port"));
        Assert.Equal("127.0.0.1", redisCommand.Attributes.GetValueOrDefault("server.address"));
        Assert.Equal("redis", redisCommand.Attributes.GetValueOrDefault("db.system.name"));
        Assert.Equal(redisCommand.Name, redisCommand.Attributes.GetValueOrDefault("db.operation.name"));
        Assert.Equal("0", redisCommand.Attributes.GetValueOrDefault("db.namespace"));

        // The shared store's commands are traced too: a token check the local revocation cache cannot answer asks the store.
        // (Commands outside a recorded request, e.g. the revocation sync's SCAN, are not profiled, so no longer spans.)
        using var check = new HttpRequestMessage(HttpMethod.Get, $"/api/auth/check-blacklist/{Guid.NewGuid()}");
        check.Headers.Authorization = new AuthenticationHeaderValue("Bearer", DevTokenMinter.Mint(new(NatoCatalog.Hub, "spans-user"), signingKey));
        using var checkResponse = await backend.Http.SendAsync(check);
        Assert.Equal(HttpStatusCode.OK, checkResponse.StatusCode);
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(otlp.Spans.Any(s => IsRedis(s) && s.ParentSpanId != ""
                && s.Attributes.GetValueOrDefault("server.port") == blacklist.Port.ToString()
                && otlp.Spans.Any(r => r.TraceId == s.TraceId && r.Scope == "Microsoft.AspNetCore" && r.Name.Contains("check-blacklist", StringComparison.Ordinal)))),
            TimeSpan.FromSeconds(30), "a shared-store span in the trace of GET /api/auth/check-blacklist");
        Assert.DoesNotContain(cache.Password!, backend.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(blacklist.Password!, backend.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_trace_budget_exhausted_the_dropped_requests_are_not_profiled_and_leave_no_session()
    {
        using var cache = new PlainRedisServer(password: true, aof: false);
        using var blacklist = new PlainRedisServer(password: true, aof: false);
        using var otlp = new OtlpTraceReceiver();
        using var backend = TracedBackend(cache, blacklist, otlp, ("Dive__Telemetry__MaxTracesPerSecond", "1"));
        await backend.WaitReadyAsync(ReadyTimeout);
        const string Started = "dive_v3_redis_profiling_sessions_total";
        var before = await HttpAssertions.MetricAsync(backend.Http, Started) ?? throw new InvalidOperationException($"{Started} not in /metrics");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // a full budget: the burst's first request is recorded

        // 40 requests at once, each running the limiter's script on the cache: a budget of 1 trace/s records one or two.
        const int Requests = 40;
        var responses = await Task.WhenAll(Enumerable.Range(0, Requests).Select(_ => backend.Http.GetAsync("/api/resources")));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));

        List<string> RecordedTraces() => otlp.Spans.Where(s => s.Scope == "Microsoft.AspNetCore" && s.Name.Contains("/api/resources", StringComparison.Ordinal))
            .Select(s => s.TraceId).Distinct().ToList();
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(RecordedTraces().Count > 0), TimeSpan.FromSeconds(30), "the recorded request's trace exported");
        await Task.Delay(TimeSpan.FromSeconds(1)); // the exporter's next batches, if any
        var recorded = RecordedTraces();
        Assert.InRange(recorded.Count, 1, Requests / 4);

        // A session only for each recorded request (its EVALSHA a span of its trace), none for the dropped ones, none held.
        var started = await HttpAssertions.MetricAsync(backend.Http, Started) - before;
        Assert.Equal(recorded.Count, started);
        Assert.Equal(0, await HttpAssertions.MetricAsync(backend.Http, "dive_v3_redis_profiling_sessions"));
        Assert.All(recorded, trace => Assert.Contains(otlp.Spans, s => s.TraceId == trace && IsRedis(s)));
        Assert.All(otlp.Spans.Where(IsRedis), s => Assert.Contains(s.TraceId, recorded));
    }

    private static bool IsRedis(OtlpSpan span) =>
        span.Scope.Contains("StackExchangeRedis", StringComparison.Ordinal) && span.Attributes.GetValueOrDefault("db.system") == "redis";

    [Fact]
    public async Task The_shared_store_down_leaves_the_backend_ready_and_degraded_and_the_loss_is_logged_without_the_password()
    {
        using var cache = new PlainRedisServer(password: true, aof: false);
        var blacklist = new PlainRedisServer(password: true, aof: false);
        using var backend = new BackendProcess(new Dictionary<string, string>
        {
            ["ConnectionStrings__cache"] = cache.BackendConnectionString,
            ["ConnectionStrings__blacklist"] = blacklist.BackendConnectionString,
        });
        try
        {
            await backend.WaitReadyAsync(ReadyTimeout);
            var detailed = await (await backend.Http.GetAsync("/health/detailed")).JsonAsync();
            Assert.Equal("healthy", Dependency(detailed, RedisClientSetup.ClientHealthCheckName("blacklist")));
            Assert.Equal("healthy", Dependency(detailed, RedisClientSetup.ClientHealthCheckName("cache")));
        }
        finally
        {
            blacklist.Dispose();
        }

        await HttpAssertions.EventuallyAsync(async () =>
        {
            using var ready = await backend.Http.GetAsync("/health/ready");
            var health = await (await backend.Http.GetAsync("/health/detailed")).JsonAsync();
            // Degraded, not unready: the integration's check of the shared store fails as degraded, like the backend's own.
            return ready.StatusCode == HttpStatusCode.OK && (await ready.JsonAsync()).GetProperty("status").GetString() == "degraded"
                && Dependency(health, RedisClientSetup.ClientHealthCheckName("blacklist")) == "degraded"
                && Dependency(health, RedisClientSetup.ClientHealthCheckName("cache")) == "healthy";
        }, TimeSpan.FromSeconds(30), "/health/ready 200 degraded with the shared store's client check degraded");

        // /health/redis keeps its entries (the client checks are not tagged "redis").
        var redis = await (await backend.Http.GetAsync("/health/redis")).JsonAsync();
        var entries = redis.GetProperty("details").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("blacklist", entries);
        Assert.Contains("cache", entries);
        Assert.DoesNotContain(entries, e => e.StartsWith("StackExchange.Redis", StringComparison.Ordinal));
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(backend.Output.Contains("Redis 'blacklist' connection to", StringComparison.Ordinal)
            && backend.Output.Contains("lost", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the lost connection logged");
        Assert.DoesNotContain(blacklist.Password!, backend.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(cache.Password!, backend.Output, StringComparison.Ordinal);
        // The outage is logged in lines, not stack traces (neither StackExchange.Redis's reconnect attempts nor the client health check's exception).
        Assert.DoesNotContain(backend.Output.Split('\n'), line => line.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        Assert.DoesNotContain(backend.Output.Split('\n'), line => line.StartsWith("fail:", StringComparison.Ordinal));
    }

    private static string? Dependency(System.Text.Json.JsonElement health, string name) =>
        health.GetProperty("dependencies").TryGetProperty(name, out var entry) ? entry.GetProperty("status").GetString() : null;

    [Fact]
    public async Task A_sentinel_connection_string_reaches_the_primary_the_sentinel_names()
    {
        using var cache = new PlainRedisServer(password: true, aof: false);
        using var primary = new PlainRedisServer(password: true, aof: false);
        using var sentinel = new RedisSentinelProcess("dive-blacklist", primary.Port, RedisAcl.AdminUser, primary.Password!);
        using var backend = new BackendProcess(new Dictionary<string, string>
        {
            ["ConnectionStrings__cache"] = cache.BackendConnectionString,
            // The HA form: sentinel endpoints and the service name; StackExchange.Redis asks the sentinel for the primary.
            ["ConnectionStrings__blacklist"] = $"127.0.0.1:{sentinel.Port},serviceName=dive-blacklist,user={RedisAcl.AdminUser},password={primary.Password}{RedisAcl.ClientOptions}",
        });

        // Ready means the revocation cache synchronised from the shared store (subscription + SCAN), i.e. through the primary.
        await backend.WaitReadyAsync(ReadyTimeout);
        var redis = await (await backend.Http.GetAsync("/health/redis")).JsonAsync();
        var endpoint = redis.GetProperty("details").GetProperty("blacklist").GetProperty("endpoint").GetString();
        Assert.EndsWith($":{primary.Port}", endpoint);
        Assert.Equal("up", redis.GetProperty("details").GetProperty("blacklist").GetProperty("status").GetString());

        await using var admin = await primary.ConnectAdminAsync();
        var clients = await admin.GetServer(primary.Endpoint).ClientListAsync();
        Assert.Contains(clients, c => c.Name == RedisStores.ClientName("USA", RedisStores.BlacklistName));
        Assert.DoesNotContain(primary.Password!, backend.Output, StringComparison.Ordinal);
    }
}
