using DiveAspire.Backend.Instance;
using DiveAspire.Backend.Validation;

namespace DiveAspire.Backend.Catalog;

/// <summary>The body of POST /api/upload, with the limits every field has.</summary>
public sealed record UploadRequest(string? ResourceId, string? Title, string? Classification, string?[]? ReleasabilityTo, string?[]? Coi)
{
    public const int MaxIdLength = 128;
    public const int MaxTitleLength = 256;
    public const int MaxItems = 64;
    public const int MaxItemLength = 64;

    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(ResourceId) || ResourceId.Length > MaxIdLength || ResourceId.Any(c => char.IsWhiteSpace(c) || c is ':' or '*'))
        {
            return $"resourceId is required (up to {MaxIdLength} characters, no spaces, ':' or '*')";
        }
        if (SafeText.Problem(ResourceId) is { } idProblem)
        {
            return "resourceId " + idProblem;
        }
        if (string.IsNullOrWhiteSpace(Title) || Title.Length > MaxTitleLength)
        {
            return $"title is required (up to {MaxTitleLength} characters)";
        }
        if (SafeText.Problem(Title) is { } titleProblem)
        {
            return "title " + titleProblem;
        }
        if (!Authorization.Classification.IsKnown(Classification))
        {
            return $"classification must be one of {string.Join(", ", Authorization.Classification.Known)}";
        }
        return Markings("releasabilityTo", ReleasabilityTo) ?? Markings("coi", Coi);
    }

    /// <summary>Country codes or community names: at most 64, each 1 to 64 letters, digits, '_', '-' or '.'.</summary>
    private static string? Markings(string name, string?[]? items)
    {
        if (items is null)
        {
            return null;
        }
        if (items.Length > MaxItems)
        {
            return $"{name} has at most {MaxItems} entries";
        }
        foreach (var item in items)
        {
            if (item is null)
            {
                return $"{name} must not contain null";
            }
            var trimmed = item.Trim();
            if (trimmed.Length is 0 or > MaxItemLength || !trimmed.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                return $"each {name} entry is 1 to {MaxItemLength} letters, digits, '_', '-' or '.'";
            }
        }
        return null;
    }

    public Resource ToResource(InstanceInfo instance) => new(
        ResourceId!, Title!, Authorization.Classification.Normalise(Classification)!,
        [.. (ReleasabilityTo ?? []).Select(c => c!.Trim().ToUpperInvariant())],
        [.. (Coi ?? []).Select(c => c!.Trim())],
        instance.Code);
}
