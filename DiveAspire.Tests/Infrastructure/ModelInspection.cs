using Aspire.Hosting;

namespace DiveAspire.Tests.Infrastructure;

/// <summary>Reads a resource's arguments and environment from its annotations without starting anything.</summary>
public static class ModelInspection
{
    /// <summary>The AppHost's graph with the given settings, built but never started (fixed ports: nothing listens).</summary>
    public static Task<IDistributedApplicationTestingBuilder> BuildModelAsync(string runtime, string spokes, string dataPath, TestSecrets secrets, params string[] extra) =>
        DistributedApplicationTestingBuilder.CreateAsync<Projects.DiveAspire_AppHost>(
            AppHostArgs.For(runtime, spokes, dataPath, secrets, extra).Where(a => !a.StartsWith("DcpPublisher", StringComparison.Ordinal)).ToArray());

    public static async Task<List<object>> ArgsAsync(IResource resource)
    {
        var args = new List<object>();
        var context = new CommandLineArgsCallbackContext(args, resource, CancellationToken.None);
        foreach (var annotation in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await annotation.Callback(context);
        }
        return args;
    }

    public static List<string> Strings(IEnumerable<object> args) => args.Select(a => a as string ?? $"<{a.GetType().Name}>").ToList();

    public static async Task<Dictionary<string, object>> EnvironmentAsync(IResource resource)
    {
        var env = new Dictionary<string, object>();
        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run), resource, env, CancellationToken.None);
        foreach (var annotation in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await annotation.Callback(context);
        }
        return env;
    }

    /// <summary>The value that follows <paramref name="flag"/> in an argument list.</summary>
    public static string ValueAfter(IReadOnlyList<string> args, string flag)
    {
        var index = args.ToList().IndexOf(flag);
        Assert.True(index >= 0 && index + 1 < args.Count, $"argument {flag} missing in: {string.Join(' ', args)}");
        return args[index + 1];
    }
}
