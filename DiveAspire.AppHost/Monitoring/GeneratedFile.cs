namespace DiveAspire.AppHost.Monitoring;

/// <summary>Writes a generated monitoring file readable by its owner only (the exporter's holds every Redis password).</summary>
internal static class GeneratedFile
{
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
