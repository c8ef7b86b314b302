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

    /// <summary>"redis-server (pid 123)" for the listener on the port, or null when it cannot be told.</summary>
    public static string? Describe(int port)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        var inodes = new HashSet<string>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; column 9 is the socket inode.
                if (cols.Length > 9 && cols[3] == "0A"
                    && int.Parse(cols[1][(cols[1].IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                {
                    inodes.Add($"socket:[{cols[9]}]");
                }
            }
        }
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
