using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Cli;

/// <summary>
/// Base for tests that run `dive` in-process against a running test federation: points the CLI at the federation's
/// random ports and secrets for the duration of the class, and restores the environment afterwards.
/// </summary>
public abstract class FederationCliTests(FederationFixture federation) : IAsyncLifetime
{
    private EnvironmentScope _env = null!;

    protected FederationFixture Federation { get; } = federation;

    public async Task InitializeAsync() => _env = await FederationCliEnvironment.SetAsync(Federation);

    public Task DisposeAsync()
    {
        _env.Dispose();
        return Task.CompletedTask;
    }

    protected Task<CliRun> Dive(params string[] args) => CliRun.RunAsync(Federation.Secrets.AllValues, args);
}
