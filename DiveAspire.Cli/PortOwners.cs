using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace DiveAspire.Cli;

/// <summary>Finds whether a TCP port is free on this machine and, on Linux, which process listens on it.</summary>
public static class PortOwners
{
    public static bool IsFree(int port)
    {
        foreach (var address in new[] { IPAddress.Loopback, IPAddress.Any })
        {
            try
            {
                using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                listener.Bind(new IPEndPoint(address, port));
            }
            catch (SocketException)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>This machine's TCP sockets (IPv4 and IPv6) as /proc/net/tcp lists them: local port, state (hex, 01 = ESTABLISHED, 0A = LISTEN), socket inode.</summary>
    public static IEnumerable<(int LocalPort, string State, string Inode)> TcpSockets()
    {
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" }.Where(File.Exists))
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // local_address is HEX_IP:HEX_PORT; column 9 is the socket inode.
                if (cols.Length > 9)
                {
                    yield return (int.Parse(cols[1][(cols[1].IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture), cols[3], cols[9]);
                }
            }
        }
    }

    /// <summary>"redis-server (pid 123)" for the listener on the port, or null when it cannot be told.</summary>
    public static string? Describe(int port)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        // State 0A is LISTEN.
        var inodes = TcpSockets().Where(s => s.State == "0A" && s.LocalPort == port).Select(s => $"socket:[{s.Inode}]").ToHashSet();
        if (inodes.Count == 0)
        {
            return null;
        }
        foreach (var proc in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(proc, "fd")))
                {
                    if (new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target))
                    {
                        var name = File.ReadAllText(Path.Combine(proc, "comm")).Trim();
                        return $"{name} (pid {Path.GetFileName(proc)})";
                    }
                }
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                // Another user's process or one that just ended: skip it.
            }
        }
        return null;
    }
}
