using System.Globalization;
using System.Net;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Tests.Monitoring;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Security;

/// <summary>
/// Issue 13: anyone on the host can ask the exporter for any query string. With a live OTP secret and OAuth code in
/// a Redis, no request may return a key name or value, on any Redis, and the exporter must still report metrics.
/// </summary>
[Collection(MonitoringCollection.Name)]
[Trait("Category", "Security")]
public sealed class ExporterSecrecyTests(MonitoringFixture monitoring)
{
    [Fact]
    public async Task No_exporter_query_returns_a_key_name_or_value_of_any_redis()
    {
        var user = $"exporter-probe-{Guid.NewGuid():N}";
        using (var http = monitoring.Backend("bel", monitoring.Mint("bel", user)))
        {
            // A live OTP pending secret, written by the backend itself.
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/auth/otp/setup", null)).StatusCode);
        }
        var code = $"probe{Guid.NewGuid():N}";
        var value = $"value-{Guid.NewGuid():N}";
        await using (var rou = await monitoring.ConnectAsync("redis-rou"))
        {
            await rou.GetDatabase().StringSetAsync($"dive-v3:oauth:code:{code}", value, TimeSpan.FromMinutes(2));
        }
        await using (var shared = await monitoring.ConnectAsync("redis-blacklist"))
        {
            await shared.GetDatabase().StringSetAsync($"blacklist:{code}", value, TimeSpan.FromMinutes(2));
        }

        using var exporter = monitoring.App.CreateHttpClient(MonitoringNames.RedisExporter, "http");
        foreach (var spec in monitoring.Topology.RedisStores)
        {
            var (_, port) = await monitoring.RedisEndpointAsync(spec.ResourceName);
            var target = Uri.EscapeDataString($"redis://localhost:{port.ToString(CultureInfo.InvariantCulture)}");
            foreach (var query in new[] { "check-keys=*", "check-single-keys=*", "count-keys=*",
                "check-keys=otp:pending:*", "check-single-keys=dive-v3:oauth:code:" + code, "count-keys=dive-v3:*", "check-keys=blacklist:*" })
            {
                var body = await exporter.GetStringAsync($"/scrape?target={target}&{query}");
                Assert.Contains("redis_up 1", body);
                foreach (var secret in new[] { user, code, value, "otp:pending", "dive-v3:oauth", "blacklist:" })
                {
                    Assert.False(body.Contains(secret, StringComparison.Ordinal), $"{spec.ResourceName} ?{query} returned '{secret}'");
                }
                Assert.DoesNotContain("redis_key_size", body);
                Assert.DoesNotContain("redis_key_value", body);
                Assert.DoesNotContain("redis_keys_count{", body);
            }
        }
    }
}
