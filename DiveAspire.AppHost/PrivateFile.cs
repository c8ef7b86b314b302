namespace DiveAspire.AppHost;

/// <summary>
/// Writes a generated file only its owner can read (0600, also when it existed with a wider mode): files holding
/// passwords or their hashes (ACL files, Redis and Sentinel secret configuration, the exporter's password file,
/// published secret values), private keys (Tls/) and the monitoring configuration next to them.
/// </summary>
internal static class PrivateFile
{
    /// <summary>The same, synchronously (private keys written while the graph is built).</summary>
    public static void Write(string path, string contents) => WriteAsync(path, contents, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>
    /// Written to a new file created 0600 next to the target and renamed over it: the contents never sit, even for a
    /// moment, in an existing file that kept a wider mode.
    /// </summary>
    public static async Task WriteAsync(string path, string contents, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            await using (var stream = new FileStream(temporary, options))
            await using (var writer = new StreamWriter(stream))
            {
                await writer.WriteAsync(contents.AsMemory(), ct).ConfigureAwait(false);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
