using Aspire.Hosting;
using DiveAspire.Topology;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// The shared revocation store of a hub that runs elsewhere (<c>./dive up --join</c>): an address only. Each local
/// backend logs in as its own read-only user (<c>backend-&lt;code&gt;-ro</c>, created by the hub) with the password the hub's operator
/// gave; this AppHost has no other credential for it.
/// </summary>
public sealed class RemoteSharedStoreResource(string name, string address) : Resource(name), IResourceWithConnectionString
{
    /// <summary><c>host:port</c>, or the Sentinels and service name (<c>h1:p,h2:p,h3:p,serviceName=dive-blacklist</c>).</summary>
    public string Address { get; } = address;

    /// <summary>No user: this AppHost owns no credential of the store but its backends'.</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Address}");

    public ReferenceExpression ClientConnectionString(string userName)
    {
        var password = this.Users()[userName].Password;
        var tls = this.TlsCaCertificate() is null ? "" : ",ssl=true";
        return ReferenceExpression.Create($"{Address},user={userName},password={password}{RedisAcl.ClientOptions}{tls}");
    }
}
