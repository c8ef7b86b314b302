using System.Diagnostics;
using System.Text.Json;
using DiveAspire.AppHost.Monitoring;
using DiveAspire.Tests.Cli;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Monitoring;

/// <summary>
/// The Debian redis_exporter, logged in as the <c>exporter</c> user the way the AppHost runs it (password file, no
/// CONFIG), scrapes a real HA store (<see cref="SentinelStoreProcesses"/>): the series the HA alerts and the replication
/// panel read exist with those names on Sentinels, the primary and a replica. A rule on a series that never exists would
/// never fire.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SentinelExporterTests(SentinelStoreProcesses store) : IClassFixture<SentinelStoreProcesses>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dive-sentinel-exporter-").FullName;

    [Fact]
    public async Task The_exporter_user_reads_what_the_HA_alerts_need_from_sentinels_primary_and_replicas()
    {
        var targets = store.SentinelPorts.Concat(store.NodePorts).Select(p => $"redis://127.0.0.1:{p}").ToList();
        var passwordFile = Path.Combine(_dir, "passwords.json");
        File.WriteAllText(passwordFile, JsonSerializer.Serialize(targets.ToDictionary(t => t, _ => store.Secrets.For(RedisAcl.Exporter(store.Topology.Blacklist)))));
        var port = FreePort.Next();
        var start = new ProcessStartInfo("prometheus-redis-exporter") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-redis.addr=", "-redis.password-file", passwordFile, $"-web.listen-address=127.0.0.1:{port}" }.Concat(MonitoringTargets.ExporterArguments))
        {
            start.ArgumentList.Add(arg);
        }
        using var exporter = Process.Start(start)!;
        exporter.OutputDataReceived += (_, _) => { };
        exporter.ErrorDataReceived += (_, _) => { };
        exporter.BeginOutputReadLine();
        exporter.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            var sentinel = await ScrapeAsync(http, targets[0]);
            Assert.Contains("redis_up 1", sentinel);
            Assert.Contains("redis_sentinel_master_ckquorum_status{master_name=\"dive-blacklist\"", sentinel);
            Assert.Matches("redis_sentinel_master_ckquorum_status\\{[^}]*\\} 1", sentinel);
            Assert.Contains($"redis_sentinel_master_status{{master_address=\"127.0.0.1:{store.NodePorts[0]}\",master_name=\"dive-blacklist\",master_status=\"ok\"}} 1", sentinel);

            var primary = await ScrapeAsync(http, $"redis://127.0.0.1:{store.NodePorts[0]}");
            Assert.Contains("redis_connected_slaves 2", primary);
            Assert.Matches("redis_instance_info\\{[^}]*role=\"master\"", primary);
            Assert.Contains("redis_master_repl_offset ", primary);

            var replica = await ScrapeAsync(http, $"redis://127.0.0.1:{store.NodePorts[1]}");
            Assert.Matches($"redis_master_link_up\\{{master_host=\"127.0.0.1\",master_port=\"{store.NodePorts[0]}\"\\}} 1", replica);
            Assert.Matches("redis_instance_info\\{[^}]*role=\"slave\"", replica);
        }
        finally
        {
            exporter.Kill();
            exporter.WaitForExit(10_000);
        }
    }

    private static async Task<string> ScrapeAsync(HttpClient http, string target)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var text = await http.GetStringAsync($"/scrape?target={Uri.EscapeDataString(target)}");
                if (text.Contains("redis_up 1", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
                {
                    return text;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // The exporter is not listening yet.
            }
            await Task.Delay(250);
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
