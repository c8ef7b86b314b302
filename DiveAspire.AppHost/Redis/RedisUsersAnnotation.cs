using DiveAspire.Topology;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>One ACL user of a Redis with the secret parameter holding its password.</summary>
public sealed record RedisUserPassword(RedisUser User, ParameterResource Password);

/// <summary>The ACL users of one Redis resource (see <see cref="RedisAcl"/>), from which its ACL file and every client's connection string are made.</summary>
public sealed class RedisUsersAnnotation(IReadOnlyList<RedisUserPassword> users) : IResourceAnnotation
{
    public IReadOnlyList<RedisUserPassword> Users { get; } = users;

    public RedisUserPassword this[string userName] =>
        Users.SingleOrDefault(u => u.User.Name == userName) ?? throw new InvalidOperationException($"Redis has no ACL user '{userName}'.");

    public async Task<string> RenderAclFileAsync(CancellationToken ct)
    {
        var lines = new List<(RedisUser, string)>();
        foreach (var (user, parameter) in Users)
        {
            var password = await parameter.GetValueAsync(ct).ConfigureAwait(false);
            lines.Add((user, string.IsNullOrEmpty(password) ? throw new TopologyException($"The secret parameter {parameter.Name} has no value.") : password));
        }
        return RedisAcl.Render(lines);
    }
}
