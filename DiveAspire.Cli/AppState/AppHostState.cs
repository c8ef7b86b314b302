using System.Text.Json;
using DiveAspire.Topology;

namespace DiveAspire.Cli.AppState;

/// <summary>One resource as the running AppHost last saw it (from Aspire's resource notifications). No parameter, no value of any secret.</summary>
public sealed record ResourceState(string Name, string Id, string Type, string? State, string? Health, int? Pid, string? ContainerId, IReadOnlyList<string> Urls);

/// <summary>
/// What the running AppHost has started, written by the AppHost to <c>&lt;data path&gt;/apphost-state.json</c> while
/// it runs (deleted when it stops) and read by <c>dive ps</c> and <c>dive health</c>.
/// </summary>
public sealed record AppHostState(int AppHostPid, DateTimeOffset StartedAt, DateTimeOffset UpdatedAt, IReadOnlyList<ResourceState> Resources)
{
    public const string FileName = "apphost-state.json";
    public const string DataPathVariable = "DIVE_DATA_PATH";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The file of the AppHost's default data path (<c>.dive/data</c> next to instances/), or of <c>DIVE_DATA_PATH</c>.</summary>
    public static string DefaultPath() => Path.Combine(
        Environment.GetEnvironmentVariable(DataPathVariable) is { Length: > 0 } data
            ? Path.GetFullPath(data)
            : Path.Combine(Path.GetDirectoryName(CliContext.InstancesDirectory())!, ".dive", "data"),
        FileName);

    /// <summary>Written to a temporary file and renamed, so a reader never sees half a file.</summary>
    public async Task WriteAsync(string path, CancellationToken ct = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(this, Json), ct).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The state, or null when no AppHost wrote one; a damaged file is a one-line error.</summary>
    public static AppHostState? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<AppHostState>(File.ReadAllText(path), Json);
        }
        catch (JsonException)
        {
            throw new CliException($"{path} is not a state file the AppHost wrote (invalid JSON); delete it, the AppHost rewrites it at start.");
        }
    }

    /// <summary>Instance codes whose backend the app runs (from resource names backend-&lt;code&gt;).</summary>
    public IReadOnlyList<string> InstanceCodes() => Resources
        .Where(r => r.Name.StartsWith("backend-", StringComparison.Ordinal))
        .Select(r => r.Name["backend-".Length..].ToUpperInvariant())
        .Distinct()
        .ToList();

    public bool Runs(string resourceName) => Resources.Any(r => r.Name == resourceName);

    public bool RunsMonitoring => Runs(MonitoringNames.Prometheus);
}
