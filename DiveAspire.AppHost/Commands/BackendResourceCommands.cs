using System.Text.Json;
using DiveAspire.Cli;
using DiveAspire.Cli.Connections;
using DiveAspire.Cli.Operations;
using DiveAspire.Topology;
using Microsoft.Extensions.DependencyInjection;

namespace Aspire.Hosting;

/// <summary>Dashboard command on each backend: resynchronise its revocation cache (same operation as 'dive redis blacklist sync').</summary>
public static class BackendResourceCommands
{
    public const string BlacklistSync = "dive-blacklist-sync";

    public static IResourceBuilder<T> WithBlacklistSyncCommand<T>(this IResourceBuilder<T> backend, InstanceDefinition instance)
        where T : IResourceWithEndpoints
    {
        return backend.WithCommand(BlacklistSync, "Sync revocations", async ctx =>
        {
            try
            {
                var token = await AdminTokenAsync(ctx, instance).ConfigureAwait(false);
                var url = backend.Resource.GetEndpoint("http").Url;
                using var operations = new BackendOperations(backend.Resource.Name, new Uri(url), token);
                var result = await operations.SyncBlacklistAsync(ctx.CancellationToken).ConfigureAwait(false);
                return CommandResults.Success($"{result.Instance}: {result.Tokens} revoked tokens and {result.Users} revoked users reloaded",
                    JsonSerializer.Serialize(result, CliContext.JsonOptions), CommandResultFormat.Json);
            }
            catch (CliException ex)
            {
                return CommandResults.Failure(ex.Message);
            }
        }, new CommandOptions
        {
            Description = "Reload this backend's local revocation cache from the shared store (same as 'dive redis blacklist sync')",
            IconName = "ArrowSync",
            UpdateState = ctx => ctx.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
        });
    }

    /// <summary>Process runtime: a short-lived dive-admin token signed with the dev signing key. Container runtime: DIVE_ADMIN_TOKEN.</summary>
    private static async Task<string> AdminTokenAsync(ExecuteCommandContext ctx, InstanceDefinition instance)
    {
        var key = ctx.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>()
            .FirstOrDefault(p => p.Name == Federation.DevSigningKeyParameter);
        if (key is not null && await key.GetValueAsync(ctx.CancellationToken).ConfigureAwait(false) is { Length: > 0 } signingKey)
        {
            return AdminToken.Mint(instance.Country, signingKey);
        }
        return DiveAspire.AppHost.InheritedSecrets.Variable(AdminToken.EnvironmentVariable) is { Length: > 0 } token
            ? token
            : throw new CliException($"No admin token: in container runtime start the AppHost with {AdminToken.EnvironmentVariable} set to a Keycloak token with role dive-admin.");
    }
}
