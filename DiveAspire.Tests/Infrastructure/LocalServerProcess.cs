using System.Diagnostics;
using System.Net.Sockets;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>What the tests' own redis-server and redis-sentinel processes share: waiting until one listens, and stopping it with its directory.</summary>
public static class LocalServerProcess
{
    /// <summary>Returns once <paramref name="host"/>:<paramref name="port"/> accepts a connection; throws if the process exits first or after 30 s.</summary>
    public static void WaitListening(Process process, string binary, string host, int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{binary} exited with {process.ExitCode}");
            }
            try
            {
                using var client = new TcpClient(host, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }
        throw new TimeoutException($"{binary} did not listen on {port} within 30 s");
    }

    /// <summary>Kills the process (and its children) and removes its private directory.</summary>
    public static void Stop(Process process, string directory)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        finally
        {
            process.Dispose();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }
    }
}
