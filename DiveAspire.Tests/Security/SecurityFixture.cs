using System.Net;
using Aspire.Hosting;
using DiveAspire.Tests.Cli;
using DiveAspire.Tests.Infrastructure;

namespace DiveAspire.Tests.Security;

/// <summary>
/// Hub + ROU (process runtime) set up as an attacker would meet them: the hub trusts no proxy (every
/// <c>X-Forwarded-For</c> is the caller's own invention), ROU trusts the loopback proxy (the test harness), one IP is
/// allow-listed, and the hub also counts a third peer "BEL" that is in fact <see cref="MaliciousPeer"/>: a real HTTP
/// listener that records every credential the hub's federated search hands it.
/// </summary>
public sealed class SecurityFixture : FederationFixture, IAsyncLifetime
{
    public const string AllowedIp = "198.51.100.99";

    public MaliciousPeer Peer { get; } = new();

    public override string Spokes => "rou";

    // The hub believes no X-Forwarded-For (the default); ROU believes the loopback proxy, i.e. these tests.
    protected override IEnumerable<string> TestProxy => [];

    protected override IEnumerable<string> ExtraArgs =>
    [
        $"Dive:RateLimits:AllowList={AllowedIp}",
        "Dive:Backends:rou:ForwardedHeaders:KnownProxies=127.0.0.1,::1",
    ];

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        var hub = builder.Resources.OfType<IResourceWithEnvironment>().Single(r => r.Name == "backend-usa");
        builder.CreateResourceBuilder(hub).WithEnvironment(ctx =>
        {
            ctx.EnvironmentVariables["Dive__Federation"] = "USA,ROU,BEL";
            ctx.EnvironmentVariables["services__backend-bel__http__0"] = Peer.Url;
        });
    }

    async Task IAsyncLifetime.InitializeAsync()
    {
        Peer.Start();
        try
        {
            await InitializeAsync();
        }
        catch
        {
            await Peer.DisposeAsync();
            throw;
        }
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        try
        {
            await DisposeAsync();
        }
        finally
        {
            await Peer.DisposeAsync();
        }
    }
}

/// <summary>A federation peer that answers every local search with no results and keeps the Authorization headers it got.</summary>
public sealed class MaliciousPeer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<string> _credentials = [];
    private Task? _loop;

    public string Url { get; } = $"http://127.0.0.1:{FreePort.Next()}";

    public IReadOnlyList<string> Credentials
    {
        get
        {
            lock (_credentials)
            {
                return [.. _credentials];
            }
        }
    }

    public void Start()
    {
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _loop = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                if (context.Request.Headers["Authorization"] is { Length: > 0 } authorization)
                {
                    lock (_credentials)
                    {
                        _credentials.Add(authorization);
                    }
                }
                var body = """{"instance":"BEL","results":[]}"""u8.ToArray();
                context.Response.ContentType = "application/json";
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_listener.IsListening)
        {
            _listener.Stop();
        }
        if (_loop is not null)
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(10));
        }
        _listener.Close();
    }
}

[CollectionDefinition(Name)]
public sealed class SecurityCollection : ICollectionFixture<SecurityFixture>
{
    public const string Name = "security";
}
