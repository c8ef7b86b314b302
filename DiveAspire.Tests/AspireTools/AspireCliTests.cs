using Aspire.Hosting;

namespace DiveAspire.Tests.AspireTools;

/// <summary>The aspire CLI (Aspire.Cli, installed by ./dive test into .dive/tools) against the app it started.</summary>
[Collection(AspireCliAppCollection.Name)]
public sealed class AspireCliTests(AspireCliApp app)
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Aspire_resource_runs_the_dashboards_redis_health_command()
    {
        var run = await app.RunAsync(CommandTimeout, ["resource", "redis-rou", RedisResourceCommands.Health, "--apphost", AspireCliApp.AppHostProject]);

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Out}\n{run.Error}");
        Assert.Contains($"Command '{RedisResourceCommands.Health}' executed successfully on resource 'redis-rou'", run.Error + run.Out);
        var health = run.Json;
        Assert.Equal("redis-rou", health.GetProperty("name").GetString());
        Assert.True(health.GetProperty("healthy").GetBoolean(), run.Out);
        Assert.Equal(7, health.GetProperty("passed").GetInt32());
    }

    /// <summary>
    /// The passwords reach this AppHost through its environment (as a secret manager or the README's
    /// <c>Parameters__...</c> and <c>REDIS_PASSWORD_...</c> overrides give them): no process it starts may inherit them.
    /// </summary>
    [Fact]
    public void No_process_under_the_AppHost_inherits_the_operator_passwords_given_in_its_environment()
    {
        var operatorSecrets = app.OperatorSecrets.ToList();
        // The AppHost itself was given them: its /proc environ is the block it started with, whatever it removed since.
        var given = File.ReadAllText($"/proc/{app.AppHostPid}/environ");
        Assert.True(operatorSecrets.Any(given.Contains), "the AppHost was not given the operator passwords in its environment: this test checks nothing");
        Assert.Contains($"{app.OriginalVariableUser.PasswordEnvironmentVariable}=", given, StringComparison.Ordinal);

        var checkedProcesses = 0;
        foreach (var pid in app.AppHostProcessTree().Where(pid => pid != app.AppHostPid))
        {
            string environment;
            try
            {
                environment = File.ReadAllText($"/proc/{pid}/environ");
            }
            catch (IOException)
            {
                continue; // exited meanwhile
            }
            checkedProcesses++;
            var command = File.Exists($"/proc/{pid}/comm") ? File.ReadAllText($"/proc/{pid}/comm").Trim() : "?";
            Assert.False(operatorSecrets.Any(environment.Contains), $"process {pid} ({command}) holds an operator password in its environment");
            Assert.DoesNotContain("Parameters__", environment, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("REDIS_PASSWORD_", environment, StringComparison.OrdinalIgnoreCase);
        }
        Assert.True(checkedProcesses > 5, $"only {checkedProcesses} processes under the AppHost checked");

        // And it used what it was given, after moving it out of its environment: the shared store's ACL file holds the hash
        // of the password given only as the original's variable.
        var user = app.OriginalVariableUser;
        Assert.Contains(user.AclLine(app.Secrets.For(user)), File.ReadAllLines(Path.Combine(app.DataPath, user.Store.ResourceName, "users.acl")));
    }

    [Fact]
    public async Task An_unknown_command_fails_with_a_non_zero_exit()
    {
        var run = await app.RunAsync(CommandTimeout, ["resource", "redis-rou", "no-such-command", "--apphost", AspireCliApp.AppHostProject]);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("not available for resource 'redis-rou'", run.Out + run.Error);
    }

    [Fact]
    public async Task Aspire_start_with_dive_up_options_runs_that_federation_with_its_dashboard_links()
    {
        var run = await app.RunAsync(CommandTimeout, ["describe", "--apphost", AspireCliApp.AppHostProject, "--format", "Json"], showsBackendEnvironment: true);
        Assert.Equal(0, run.ExitCode);
        var resources = AspireCliApp.Resources(run.Json).ToDictionary(r => r.GetProperty("displayName").GetString()!);

        // --spokes rou reached the AppHost: the hub and ROU, no other spoke; monitoring is on.
        Assert.Equal(app.ExpectedResources.Order(), resources.Keys.Order());
        foreach (var backend in app.Topology.Instances.Select(i => i.BackendResourceName))
        {
            Assert.Equal(DashboardLinks.BackendPaths, LinkPaths(resources[backend]));
        }
        Assert.Equal(DashboardLinks.PrometheusPaths(debianPackage: true), LinkPaths(resources["prometheus"]));
    }

    private static IEnumerable<string> LinkPaths(System.Text.Json.JsonElement resource) =>
        resource.GetProperty("urls").EnumerateArray()
            .Select(u => new Uri(u.GetProperty("url").GetString()!).AbsolutePath)
            .Where(path => path != "/");
}
