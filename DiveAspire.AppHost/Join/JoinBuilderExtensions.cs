using DiveAspire.AppHost;
using DiveAspire.Topology;

namespace Aspire.Hosting;

/// <summary>A spoke AppHost joining a hub that runs elsewhere (<see cref="JoinSettings"/>).</summary>
public static class JoinBuilderExtensions
{
    public const string ShareDevelopmentKeySetting = "Dive:Join:ShareDevelopmentKey";

    /// <summary>
    /// In the process runtime every realm's tokens are signed with the one development key (HS256): whoever holds it can
    /// sign tokens of any realm, the hub's dive-admin included. Handing it to another machine (<c>--join</c>,
    /// <c>--remote-spokes</c>) is only safe between machines of one operator, so that has to be said explicitly.
    /// </summary>
    public static void RequireDevelopmentKeyConsent(this IDistributedApplicationBuilder builder, DiveTopology topology, DiveRuntime runtime, bool joining)
    {
        if (runtime != DiveRuntime.Process || (!joining && topology.RemoteSpokes.Count == 0)
            || string.Equals(builder.Configuration[ShareDevelopmentKeySetting], "true", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        throw new TopologyException(
            $"{(joining ? "--join" : "--remote-spokes")} in the process runtime shares the development signing key, with which the other " +
            $"machine's operator can sign tokens of every realm (the hub's dive-admin too): only between machines of one operator, said with " +
            $"{ShareDevelopmentKeySetting}=true. Between nations give each realm its own RS256 issuer (container runtime; docs/deployment.md).");
    }

    /// <summary>
    /// The secrets a joining spoke takes from the hub instead of generating them: each local spoke's password on the
    /// shared store (its read-only user, <c>redis-password-blacklist-backend-&lt;code&gt;-ro</c>), the federation key and, in the process runtime, the development signing key. All missing ones are
    /// named in one error, before anything starts.
    /// </summary>
    public static void RequireHubSecrets(this IDistributedApplicationBuilder builder, DiveTopology topology, DiveRuntime runtime)
    {
        var required = topology.Spokes.Select(s => RedisAcl.SharedStoreUser(topology, s))
            .Select(u => (Name: u.PasswordParameterName, Legacy: (string?)u.PasswordEnvironmentVariable))
            .Append((Federation.FederationKeyParameter, null));
        if (runtime == DiveRuntime.Process)
        {
            required = required.Append((Federation.DevSigningKeyParameter, null));
        }
        var missing = new List<string>();
        foreach (var (name, legacy) in required)
        {
            if (string.IsNullOrEmpty(builder.Configuration[$"Parameters:{name}"]) && legacy is not null && builder.Configuration[legacy] is { Length: > 0 } value)
            {
                builder.Configuration[$"Parameters:{name}"] = value;
            }
            if (string.IsNullOrEmpty(builder.Configuration[$"Parameters:{name}"]))
            {
                missing.Add(name);
            }
        }
        if (missing.Count > 0)
        {
            throw new TopologyException(
                $"Joining a hub needs these secrets from the hub's operator (values in the hub AppHost's user secrets): {string.Join(", ", missing)}. " +
                "Set each with: dotnet user-secrets set \"Parameters:NAME\" VALUE --project DiveAspire.AppHost (see docs/deployment.md, \"Joining a hub\").");
        }
    }

    /// <summary>The hub's shared store, reached at <see cref="JoinSettings.SharedStoreAddress"/> with each local spoke's own read-only user.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddJoinedSharedStore(this IDistributedApplicationBuilder builder, DiveTopology topology, JoinSettings join)
    {
        join.RequireStoreTrust();
        var store = new RemoteSharedStoreResource(topology.Blacklist.ResourceName, join.SharedStoreAddress);
        if (join.StoreCertificateAuthority is { } ca)
        {
            store.Annotations.Add(new RedisTlsAnnotation(ca));
        }
        store.Annotations.Add(new RedisUsersAnnotation([.. topology.Spokes
            .Select(s => RedisAcl.SharedStoreUser(topology, s))
            .Select(u => new RedisUserPassword(u, builder.AddParameter(u.PasswordParameterName, secret: true).Resource))]));
        return builder.AddResource(store).WithInitialState(new CustomResourceSnapshot
        {
            ResourceType = "Redis (on the hub)",
            State = new ResourceStateSnapshot("Remote", KnownResourceStateStyles.Info),
            Properties = [new("dive.address", join.SharedStoreAddress), new("dive.tls", join.StoreCertificateAuthority is null ? "no (plain TCP)" : "yes")],
        });
    }

    public const string AllowPlaintextRelaySetting = "Dive:Revocation:AllowPlaintextRelay";
    public const string PublishedHubBackendUrlSetting = "Dive:Publish:HubBackendUrl";

    /// <summary>
    /// A joining spoke's backends relay users' bearer tokens to the hub's backend at the <c>--join</c> URL: plain http to
    /// another machine only when <c>Dive:Revocation:AllowPlaintextRelay=true</c> says a VPN or mesh protects the link
    /// (the setting reaches the backends with the other <c>Dive:Revocation:*</c> ones). One line, before anything starts.
    /// </summary>
    public static void RequirePlaintextRelayConsent(this IDistributedApplicationBuilder builder, JoinSettings join)
    {
        if (join.HubUrl.Scheme == "http" && !join.HubUrl.IsLoopback
            && !string.Equals(builder.Configuration[AllowPlaintextRelaySetting]?.Trim(), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new TopologyException(
                $"--join {join.HubUrl.GetLeftPart(UriPartial.Authority)} is plain http: this spoke's backends would send users' bearer tokens (logout, revoke) " +
                $"to the hub unencrypted. Join the hub's https URL, or say {AllowPlaintextRelaySetting}=true where a VPN protects the link.");
        }
    }

    /// <summary>
    /// A joining spoke's backends may only read the shared store: each sends its revocations (logout, revoke,
    /// blacklist-token) to the hub's backend at its <c>--join</c> URL, which writes them (the backend's <c>Dive:Revocation:Relay</c>).
    /// In published manifests (<see cref="DiveTopology.SpokesElsewhere"/>) each spoke's backend relays to the hub backend's
    /// endpoint, which the publisher writes as the hub's public address from the overlay's federation ConfigMap.
    /// </summary>
    public static void RelayRevocationsToHub(this IDistributedApplicationBuilder builder, DiveTopology topology, JoinSettings? join)
    {
        const string relay = "Dive__Revocation__Relay";
        var spokes = topology.LocalInstances.Where(topology.IsRemoteSpoke)
            .Select(i => builder.Resources.Single(r => r.Name == i.BackendResourceName)).OfType<IResourceWithEnvironment>();
        if (join is not null)
        {
            foreach (var backend in spokes)
            {
                builder.CreateResourceBuilder(backend).WithEnvironment(relay, join.HubUrl.GetLeftPart(UriPartial.Authority));
            }
        }
        else if (topology.SpokesElsewhere && builder.Configuration[PublishedHubBackendUrlSetting] is { Length: > 0 } url)
        {
            // Separate clusters: the hub backend's public https address (its ingress).
            var hubUrl = Uri.TryCreate(url.Trim(), UriKind.Absolute, out var parsed) && parsed.Scheme == "https" && parsed.AbsolutePath == "/" && parsed.Query.Length == 0 && parsed.UserInfo.Length == 0
                ? parsed.GetLeftPart(UriPartial.Authority)
                : throw new TopologyException($"{PublishedHubBackendUrlSetting} must be the hub backend's public https://host[:port] URL, without path (got '{url}').");
            foreach (var backend in spokes)
            {
                builder.CreateResourceBuilder(backend).WithEnvironment(relay, hubUrl);
            }
        }
        else if (topology.SpokesElsewhere && builder.Resources.Single(r => r.Name == topology.Hub.BackendResourceName) is IResourceWithEndpoints hub)
        {
            // Default: the hub backend's Service by the address in the overlay's federation ConfigMap, plain http as every
            // in-cluster address of the manifests (one cluster, or a mesh that encrypts pod traffic).
            var endpoint = new EndpointReference(hub, "http");
            foreach (var backend in spokes)
            {
                builder.CreateResourceBuilder(backend).WithEnvironment(relay, endpoint).WithEnvironment("Dive__Revocation__AllowPlaintextRelay", "true");
            }
        }
    }

    /// <summary>
    /// Local backends reach remote instances' backends (federated search) at <c>Dive:Peers:&lt;code&gt;</c> (an http(s) URL),
    /// the joined hub at its <c>--join</c> URL; a remote instance without an address is simply not reached.
    /// </summary>
    public static void AddRemotePeers(this IDistributedApplicationBuilder builder, DiveTopology topology, JoinSettings? join)
    {
        var remote = topology.Federation.Where(i => !topology.LocalInstances.Contains(i)).ToList();
        var peers = new Dictionary<string, Uri>();
        foreach (var instance in remote)
        {
            if (builder.Configuration[$"Dive:Peers:{instance.LowerCode}"] is { Length: > 0 } text)
            {
                peers[instance.BackendResourceName] = Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.AbsolutePath == "/"
                    ? url
                    : throw new TopologyException($"Dive:Peers:{instance.LowerCode} must be that backend's http(s)://host:port URL (got '{text}').");
            }
            else if (join is not null && instance == topology.Hub)
            {
                peers[instance.BackendResourceName] = join.HubUrl;
            }
        }
        foreach (var backend in topology.LocalInstances.Select(i => builder.Resources.Single(r => r.Name == i.BackendResourceName)).OfType<IResourceWithEnvironment>())
        {
            foreach (var (name, url) in peers)
            {
                // Under the URL's own scheme: "https+http://backend-usa" then takes the https address.
                builder.CreateResourceBuilder(backend).WithEnvironment($"services__{name}__{url.Scheme}__0", url.GetLeftPart(UriPartial.Authority));
            }
            // The hub's backend speaks https beyond loopback with a certificate of its deployment CA: the relay and
            // federated search validate it against the hub's CA alone (PeerTls in the backend).
            if (join is { HubUrl.Scheme: "https", StoreCertificateAuthority: { } ca })
            {
                builder.CreateResourceBuilder(backend).WithEnvironment("Dive__Peers__TlsCa", ca);
            }
        }
    }
}
