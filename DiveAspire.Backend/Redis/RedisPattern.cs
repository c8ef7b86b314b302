using System.Text;

namespace DiveAspire.Backend.Redis;

/// <summary>Escapes text for a Redis glob pattern (SCAN MATCH), so a user id with '*' or '[' matches only itself.</summary>
public static class RedisPattern
{
    public static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                builder.Append('\\');
            }
            builder.Append(c);
        }
        return builder.ToString();
    }
}
