using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using DiveAspire.Tests.Cli;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>
/// A real Debian <c>redis-sentinel</c> on a random port monitoring one primary under <paramref name="serviceName"/>, with
/// one ACL user (<paramref name="user"/>, the password given) for clients and the same credentials towards the primary,
/// as a backend's Sentinel connection string uses one user and password for both. Killed and its directory removed on Dispose.
/// </summary>
public sealed class RedisSentinelProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _dir = Directory.CreateTempSubdirectory("dive-sentinel-").FullName;
    private readonly string _bind;

    /// <param name="stale">
    /// A Sentinel that names <paramref name="primaryPort"/> for ever: it never logs in to that node (NOAUTH to all it
    /// sends), so it learns nothing (no INFO, no hello from other Sentinels) and teaches nothing, and with quorum 2
    /// alone it never fails over; what a partitioned or outdated Sentinel answers, as a real process.
    /// </param>
    /// <param name="bind">The address it listens on (default loopback).</param>
    public RedisSentinelProcess(string serviceName, int primaryPort, string user, string password, bool stale = false, string bind = "127.0.0.1")
    {
        _bind = bind;
        Port = FreePort.Next();
        var conf = Path.Combine(_dir, "sentinel.conf");
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password)));
        // Sentinel rewrites its file, so it is its own; the file is 0600 and removed with the directory.
        File.WriteAllText(conf, $"""
            port {Port}
            bind {bind}
            dir "{_dir}"
            user default off
            user {user} on #{hash} ~* &* +@all
            sentinel monitor {serviceName} 127.0.0.1 {primaryPort} {(stale ? 2 : 1)}

            """ + (stale ? "" : $"""
            sentinel auth-user {serviceName} {user}
            sentinel auth-pass {serviceName} {password}

            """));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(conf, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var start = new ProcessStartInfo("redis-sentinel") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(conf);
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-sentinel did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitListening();
    }

    public int Port { get; }

    private void WaitListening() => LocalServerProcess.WaitListening(_process, "redis-sentinel", _bind, Port);

    public void Dispose() => LocalServerProcess.Stop(_process, _dir);
}
