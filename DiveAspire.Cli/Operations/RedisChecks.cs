using DiveAspire.Cli.Connections;
using StackExchange.Redis;

namespace DiveAspire.Cli.Operations;

/// <summary>Checks of one instance's Redis shared by the hub and spoke verifications.</summary>
internal static class RedisChecks
{
    public static async Task<(bool, string)> PasswordRequiredAsync(RedisTarget target, CancellationToken ct)
    {
        try
        {
            var required = await RedisConnector.RequiresAuthenticationAsync(target, ct).ConfigureAwait(false);
            return (required, required ? "an unauthenticated PING is refused (NOAUTH)" : "an unauthenticated PING is answered: no password is required");
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or OperationCanceledException)
        {
            return (false, $"{target.Name} is unreachable at {target.Endpoint}");
        }
    }

    public static (bool, string) Aof(RedisTarget target, RedisStatus? status)
    {
        Reached(target, status);
        return (status!.Aof == true, status.Aof == true ? "appendonly yes" : "appendonly no: writes since the last RDB snapshot are lost on a crash");
    }

    public static (bool, string) Eviction(RedisTarget target, RedisStatus? status)
    {
        Reached(target, status);
        var expected = target.Spec.MaxMemoryPolicy;
        var passed = status!.EvictionPolicy == expected && status.MaxMemoryBytes is > 0;
        return (passed, $"maxmemory-policy {status.EvictionPolicy} (planned {expected}), maxmemory {(status.MaxMemoryBytes is > 0 ? RedisOperations.Bytes(status.MaxMemoryBytes.Value) : "unbounded")} (planned {target.Spec.MaxMemory})");
    }

    /// <summary>A check that reads a status fails with one line when the status could not be read.</summary>
    public static void Reached(RedisTarget target, RedisStatus? status)
    {
        if (status is null)
        {
            throw new CliException($"{target.Name} was not reached (see the first check)");
        }
    }

    public static async Task<string?> ConfigGetAsync(RedisTarget target, string parameter, CancellationToken ct)
    {
        await using var connection = await RedisConnector.ConnectAsync(target, ct).ConfigureAwait(false);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var pairs = await RedisOperations.Guard(target, server.ConfigGetAsync(parameter)).ConfigureAwait(false);
        return pairs.FirstOrDefault(p => p.Key == parameter).Value;
    }
}
