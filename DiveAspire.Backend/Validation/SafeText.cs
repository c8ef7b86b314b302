using System.Globalization;
using System.Text;

namespace DiveAspire.Backend.Validation;

/// <summary>
/// Text that is safe to store, log and show: no control characters (NUL, ESC of ANSI sequences, newlines), no format
/// characters (bidi overrides and isolates U+202A-202E / U+2066-2069, zero-width characters), no line or paragraph
/// separators, and no unpaired surrogate (not Unicode at all).
/// </summary>
public static class SafeText
{
    /// <summary>Why <paramref name="text"/> is unsafe, or null when it is safe.</summary>
    public static string? Problem(string text)
    {
        var index = 0;
        while (index < text.Length)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return "contains an unpaired surrogate (not valid Unicode)";
            }
            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.Control:
                    return $"contains the control character U+{rune.Value:X4}";
                case UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator:
                    return $"contains the invisible formatting character U+{rune.Value:X4}";
            }
            index += consumed;
        }
        return null;
    }

    /// <summary>The string value of a JSON element, or null when it holds an unpaired surrogate escape such as "\ud800".</summary>
    public static bool TryGetString(System.Text.Json.JsonElement element, out string? text)
    {
        try
        {
            text = element.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            text = null;
            return false;
        }
    }
}
