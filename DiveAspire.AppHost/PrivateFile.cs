namespace DiveAspire.AppHost;

/// <summary>
/// Writes a generated file only its owner can read (0600, also when it existed with a wider mode): files holding
/// passwords or their hashes (ACL files, Redis and Sentinel secret configuration, the exporter's password file,
/// published secret values) and the monitoring configuration next to them.
/// </summary>
internal static class PrivateFile
{
    /// <summary>The same, synchronously (private keys written while the graph is built).</summary>
    public static void Write(string path, string contents) => WriteAsync(path, contents, CancellationToken.None).GetAwaiter().GetResult();

    public static async Task WriteAsync(string path, string contents, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using (var stream = new FileStream(path, options))
        await using (var writer = new StreamWriter(stream))
        {
            await writer.WriteAsync(contents.AsMemory(), ct).ConfigureAwait(false);
        }
        if (!OperatingSystem.IsWindows())
        {
            // An existing file keeps its old mode on FileMode.Create.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
