using System.Text.RegularExpressions;
using Aspire.Hosting;
using Microsoft.Playwright;

namespace DiveAspire.Tests.AspireTools;

/// <summary>
/// The Aspire dashboard in a real browser: Debian's chromium (./dive test installs it) driven by Playwright, whose own
/// browser download is never used. The screenshots land in .dive/screenshots/ for people to look at.
/// </summary>
[Collection(AspireCliAppCollection.Name)]
public sealed class DashboardBrowserTests(AspireCliApp app)
{
    public const string Chromium = "/usr/bin/chromium";
    private static readonly float Timeout = (float)TimeSpan.FromSeconds(90).TotalMilliseconds;
    private static string Screenshots => Path.Combine(AspireCliApp.RepositoryRoot, ".dive", "screenshots");

    [Fact]
    public async Task The_dashboard_shows_every_resource_running_with_its_links_and_runs_a_redis_command()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} not found: ./dive test installs it (apt-get install chromium).");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Timeout = Timeout });
        await using var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1600, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(Timeout);
        Directory.CreateDirectory(Screenshots);
        var failure = Path.Combine(Screenshots, "dashboard-failure.png");
        File.Delete(failure); // a previous run's
        try
        {
            // The login link the AppHost printed (aspire start reports it): its token signs the browser in.
            await page.GotoAsync(app.DashboardLoginUrl);
            await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));

            foreach (var name in app.ExpectedResources)
            {
                await Assertions.Expect(Row(page, name).Locator("td[col-index='2']")).ToHaveAttributeAsync("title", "Running", new() { Timeout = Timeout });
            }
            await AssertLinksLeadSomewhereAsync(page);
            await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "dashboard-resources.png") });

            // A Redis command from the resource's menu: Actions > Commands > Redis health checks.
            await Row(page, "redis-rou").Locator("fluent-button[aria-label='Actions']").ClickAsync();
            await page.Locator("fluent-menu-item:visible", new() { HasText = "Commands" }).ClickAsync();
            await page.GetByRole(AriaRole.Menuitem, new() { Name = "Redis health checks", Exact = true }).Locator("visible=true").ClickAsync();
            await Assertions.Expect(page.GetByText("redis-rou \"Redis health checks\" succeeded")).ToBeVisibleAsync(new() { Timeout = Timeout });
            await page.GetByText("View response").ClickAsync();
            var response = page.GetByRole(AriaRole.Region, new() { Name = "Text content" });
            // The response is shown in a code viewer (line numbers, non-breaking spaces): matched loosely.
            await Assertions.Expect(response).ToContainTextAsync(new Regex("\"name\":\\s*\"redis-rou\""), new() { Timeout = Timeout });
            await Assertions.Expect(response).ToContainTextAsync(new Regex("\"passed\":\\s*7,"));
            await Assertions.Expect(response).ToContainTextAsync(new Regex("\"healthy\":\\s*true"));
            await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "dashboard-redis-command.png") });
        }
        catch
        {
            await page.ScreenshotAsync(new() { Path = failure });
            throw;
        }
    }

    private static ILocator Row(IPage page, string resource) =>
        page.Locator("tr.resource-row").Filter(new() { Has = page.Locator("span.resource-name-text", new() { HasTextRegex = new($"^{resource}$") }) });

    /// <summary>Each backend links to /health/detailed and /metrics, Prometheus to its targets and alerts pages; each answers 200.</summary>
    private async Task AssertLinksLeadSomewhereAsync(IPage page)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var expected = app.Topology.Instances.Select(i => (Resource: i.BackendResourceName, Links: DashboardLinks.BackendPaths))
            .Append((Resource: "prometheus", Links: DashboardLinks.PrometheusPaths(debianPackage: true)));
        foreach (var (resource, links) in expected)
        {
            foreach (var path in links)
            {
                var text = path.Replace("/classic/", "/", StringComparison.Ordinal);
                var link = Row(page, resource).Locator("a", new() { HasTextRegex = new($"^{text}$") });
                await Assertions.Expect(link).ToHaveCountAsync(1);
                var href = await link.GetAttributeAsync("href");
                Assert.EndsWith(path, href);
                using var answer = await http.GetAsync(href);
                Assert.True(answer.IsSuccessStatusCode, $"{resource}'s link {href} answered {(int)answer.StatusCode}");
            }
        }
    }
}
