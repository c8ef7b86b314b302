using System.Text.Json.Nodes;
using DiveAspire.Tests.Infrastructure;
using DiveAspire.Topology;

namespace DiveAspire.Tests.Kubernetes;

/// <summary>
/// Runs `./dive publish kubernetes` as it runs for a user: the AppHost binary in publish mode, a real process, once per
/// test class, with every secret parameter given as a fresh random value in its environment (never the developer's
/// user secrets, never an argument), and --secrets-from user-secrets so that the secret files are written too.
/// </summary>
public class PublishedManifestsFixture : IAsyncLifetime
{
    public const string Domain = "dive.test.example";

    public string Output { get; } = Directory.CreateTempSubdirectory("dive-k8s-").FullName;
    public TestSecrets Secrets { get; } = new();
    public DiveTopology Topology { get; } = DiveTopology.Load(AppHostArgs.InstancesDirectory);
    public Dictionary<string, string> ExtraSecrets { get; } = new()
    {
        ["keycloak-admin-password"] = Guid.NewGuid().ToString("N"),
        ["keycloak-test-user-password"] = Guid.NewGuid().ToString("N"),
        ["grafana-admin-password"] = Guid.NewGuid().ToString("N"),
    };

    /// <summary>Every secret value the publish run was given.</summary>
    public IEnumerable<string> AllSecretValues => Secrets.AllValues.Concat(ExtraSecrets.Values);

    /// <summary><c>kubectl kustomize</c> of each overlay, by lower-case code.</summary>
    public Dictionary<string, string> Built { get; } = new();

    public static string AppHostDll
    {
        get
        {
            var project = Path.Combine(Path.GetDirectoryName(AppHostArgs.InstancesDirectory)!, "DiveAspire.AppHost");
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            return Path.Combine(project, "bin", configuration, "net10.0", "DiveAspire.AppHost.dll");
        }
    }

    /// <summary>A line the output's owner already had in DIR/.gitignore: publishing must keep it.</summary>
    public const string ExistingGitIgnoreLine = "site-patches/*.local.yaml";

    /// <summary>More configuration for the publish run (e.g. fewer spokes, another backend image).</summary>
    protected virtual IEnumerable<string> ExtraPublishArgs => [];

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(Output, ".gitignore"), ExistingGitIgnoreLine);
        var (code, stdout, stderr) = await PublishAsync(Output);
        Assert.True(code == 0, $"publish failed ({code}):\n{stdout}\n{stderr}");
        foreach (var instance in Topology.Instances.Where(i => Directory.Exists(Path.Combine(Output, "overlays", i.LowerCode))))
        {
            Built[instance.LowerCode] = await KustomizeAsync(Path.Combine(Output, "overlays", instance.LowerCode));
        }
    }

    /// <summary>`./dive publish kubernetes --secrets-from user-secrets` into <paramref name="output"/> with this fixture's secrets.</summary>
    public Task<(int ExitCode, string Out, string Error)> PublishAsync(string output)
    {
        var environment = Secrets.AsArguments(Topology)
            .Select(a => a.Split('=', 2))
            .ToDictionary(kv => kv[0].Replace(":", "__", StringComparison.Ordinal), kv => kv[1]);
        foreach (var (name, value) in ExtraSecrets)
        {
            environment[$"Parameters__{name}"] = value;
        }
        return ExternalProcess.RunAsync("dotnet",
            [AppHostDll, "--operation", "publish", "--step", "publish-kubernetes", "--output-path", output,
             $"Dive:Publish:Domain={Domain}", "Dive:Publish:SecretsFrom=user-secrets", .. ExtraPublishArgs],
            TimeSpan.FromMinutes(3), environment);
    }

    public static async Task<string> KustomizeAsync(string directory)
    {
        var (code, stdout, stderr) = await ExternalProcess.RunAsync("kubectl", ["kustomize", directory], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"kubectl kustomize {directory} failed ({code}): {stderr}");
        return stdout;
    }

    public List<JsonObject> Objects(string code) => KubernetesSchema.Documents(Built[code]);

    public JsonObject Object(string code, string kind, string name) =>
        Objects(code).SingleOrDefault(o => (string?)o["kind"] == kind && (string?)o["metadata"]!["name"] == name)
        ?? throw new Xunit.Sdk.XunitException($"{kind} {name} is not in overlay {code}");

    public Task DisposeAsync()
    {
        Directory.Delete(Output, recursive: true);
        return Task.CompletedTask;
    }
}
