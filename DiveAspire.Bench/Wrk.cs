using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace DiveAspire.Bench;

/// <summary>
/// Runs wrk (Debian package <c>wrk</c>) against one URL and reads its summary. The token goes in a Lua script (mode
/// 0600), never on wrk's command line.
/// </summary>
public static partial class Wrk
{
    public const int Threads = 2;
    public const int Connections = 32;

    /// <param name="Requests">completed requests</param>
    /// <param name="Seconds">wrk's own measured duration</param>
    /// <param name="RequestsPerSecond">wrk's Requests/sec line</param>
    /// <param name="P50Ms">latency distribution, 50%</param>
    /// <param name="P99Ms">latency distribution, 99%</param>
    /// <param name="Non2xx">responses that were not 2xx or 3xx</param>
    /// <param name="SocketErrors">connect + read + write errors</param>
    /// <param name="Timeouts">requests without a response within <see cref="Timeout"/></param>
    public sealed record Result(long Requests, double Seconds, double RequestsPerSecond, double P50Ms, double P99Ms, long Non2xx, long SocketErrors, long Timeouts);

    /// <summary>wrk's own default (2 s) counts a slow response on a loaded machine as an error instead of as latency.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>wrk's summary (run with <c>--latency</c>); an output without the request count, rate or percentiles is an error.</summary>
    public static Result Parse(string output)
    {
        var done = RequestsLine().Match(output);
        var rate = RateLine().Match(output);
        var p50 = Percentile(output, "50");
        var p99 = Percentile(output, "99");
        if (!done.Success || !rate.Success || p50 is null || p99 is null)
        {
            throw new InvalidOperationException($"wrk's output has no summary (was it run with --latency?): {output.Trim()}");
        }
        var non2xx = Non2xxLine().Match(output);
        var errors = SocketErrorsLine().Match(output);
        return new Result(
            long.Parse(done.Groups["n"].Value, CultureInfo.InvariantCulture),
            Duration(done.Groups["t"].Value, done.Groups["u"].Value) / 1000,
            double.Parse(rate.Groups["r"].Value, CultureInfo.InvariantCulture),
            p50.Value,
            p99.Value,
            non2xx.Success ? long.Parse(non2xx.Groups["n"].Value, CultureInfo.InvariantCulture) : 0,
            errors.Success ? errors.Groups.Cast<Group>().Skip(1).Take(3).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture)) : 0,
            errors.Success ? long.Parse(errors.Groups[4].Value, CultureInfo.InvariantCulture) : 0);
    }

    private static double? Percentile(string output, string percent)
    {
        var match = Regex.Match(output, $@"^\s*{percent}%\s+(?<t>[\d.]+)(?<u>us|ms|s|m)\s*$", RegexOptions.Multiline);
        return match.Success ? Duration(match.Groups["t"].Value, match.Groups["u"].Value) : null;
    }

    /// <summary>The Lua pacing for <see cref="RunAsync"/>: one schedule per wrk thread (each thread has its own Lua state).</summary>
    private static string Pacing(double rate) => $$"""
        local ffi = require("ffi")
        ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } dive_timespec; int clock_gettime(int clock, dive_timespec *tp); ]]
        local now = ffi.new("dive_timespec")
        local interval = {{(1000.0 * Threads / rate).ToString("R", CultureInfo.InvariantCulture)}}
        local due = nil
        function delay()
          ffi.C.clock_gettime(1, now)
          local ms = tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
          if due == nil or due < ms - 1000 then due = ms end
          due = due + interval
          return math.max(0, due - ms)
        end

        """;

    /// <summary>wrk prints durations as 402.00us, 1.29ms, 2.00s or 1.50m.</summary>
    private static double Duration(string value, string unit) => double.Parse(value, CultureInfo.InvariantCulture) * unit switch
    {
        "us" => 0.001,
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        _ => throw new InvalidOperationException($"unknown wrk duration unit '{unit}'"),
    };

    [GeneratedRegex(@"^\s*(?<n>\d+) requests in (?<t>[\d.]+)(?<u>us|ms|s|m),", RegexOptions.Multiline)]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"^Requests/sec:\s+(?<r>[\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RateLine();

    [GeneratedRegex(@"^\s*Non-2xx or 3xx responses: (?<n>\d+)", RegexOptions.Multiline)]
    private static partial Regex Non2xxLine();

    [GeneratedRegex(@"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", RegexOptions.Multiline)]
    private static partial Regex SocketErrorsLine();

    /// <summary>
    /// wrk -t2 -c32 --latency --timeout 10s for <paramref name="duration"/>; with a bearer token when given. With
    /// <paramref name="rate"/>, wrk's <c>delay()</c> hook paces the requests: each thread keeps a schedule of rate /
    /// threads sends a second (monotonic clock through LuaJIT's FFI) and every request of its connections takes the next
    /// slot, waiting until it is due. A connection still waiting for a response takes no slot, so when responses lag the
    /// schedule the load drops (coordinated omission: the latency of the requests that would have been sent is not
    /// counted); compare the achieved rate with the one asked for.
    /// </summary>
    public static async Task<Result> RunAsync(Uri url, string? token, TimeSpan duration, double? rate = null)
    {
        var script = Path.Combine(Directory.CreateTempSubdirectory("dive-bench-wrk-").FullName, "headers.lua");
        try
        {
            File.WriteAllText(script, "");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.WriteAllText(script, (token is null ? "" : $"wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n") + (rate is { } r ? Pacing(r) : ""));
            var info = new ProcessStartInfo("wrk", [$"-t{Threads}", $"-c{Connections}", $"-d{Math.Max(1, (int)duration.TotalSeconds)}s", "--latency", "--timeout", $"{(int)Timeout.TotalSeconds}s", "-s", script, url.ToString()])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            Process process;
            try
            {
                process = Process.Start(info) ?? throw new InvalidOperationException("wrk did not start");
            }
            catch (System.ComponentModel.Win32Exception)
            {
                throw new InvalidOperationException("wrk is not installed: sudo apt-get install -y wrk (./dive bench installs it)");
            }
            using (process)
            {
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                if (process.ExitCode != 0)
                {
                    throw new InvalidOperationException($"wrk {url} exited with {process.ExitCode}: {(await stderr).Trim()} {(await stdout).Trim()}");
                }
                return Parse(await stdout);
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(script)!, recursive: true);
        }
    }
}
