using System.Globalization;

namespace CinemaVision.Server.Http;

/// <summary>
/// The one home for what an identifier or a piece of free text may hold, used by ingest, the people and admin APIs
/// and the route-value check every endpoint gets (<see cref="RouteValueCheck"/>). Identifiers become time-series
/// tags, file names and log fields: printable, short, no backslash (line protocol cannot carry one), no control or
/// format characters (a right-to-left override or a zero-width space makes two ids look alike), no surrounding
/// spaces. Free text may hold line breaks and tabs but no other control or format characters, and is capped.
/// </summary>
public static class InputRules
{
    public const int MaxIdLength = 128;

    /// <summary>Short free text: display names, reasons, notes.</summary>
    public const int MaxShortText = 500;

    /// <summary>Longer free text: an event's detail.</summary>
    public const int MaxText = 2000;

    /// <summary>Null when <paramref name="value"/> is a valid identifier, else what is wrong with it (to follow the field name).</summary>
    public static string? IdProblem(string? value, int maxLength = MaxIdLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "is required.";
        }

        if (value.Length > maxLength)
        {
            return $"must be at most {maxLength} characters (was {value.Length}).";
        }

        if (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1]))
        {
            return "must not start or end with a space.";
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\')
            {
                return $"must not contain a backslash (at {i}).";
            }

            if (BadChar(value, i, allowLineBreaks: false) is { } what)
            {
                return $"must not contain {what} (U+{(int)c:X4} at {i}).";
            }

            if (char.IsHighSurrogate(c))
            {
                i++;
            }
        }

        return null;
    }

    /// <summary>Null when <paramref name="value"/> (may be null) is acceptable free text of at most <paramref name="maxLength"/> characters.</summary>
    public static string? TextProblem(string? value, int maxLength, bool multiline = true)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length > maxLength)
        {
            return $"must be at most {maxLength} characters (was {value.Length}).";
        }

        for (var i = 0; i < value.Length; i++)
        {
            if (BadChar(value, i, multiline) is { } what)
            {
                return $"must not contain {what} (U+{(int)value[i]:X4} at {i}).";
            }

            if (char.IsHighSurrogate(value[i]))
            {
                i++;
            }
        }

        return null;
    }

    /// <summary>Null when the number is finite and within [min, max].</summary>
    public static string? RangeProblem(double value, double min, double max) =>
        !double.IsFinite(value) ? "must be a finite number." : value < min || value > max ? string.Create(CultureInfo.InvariantCulture, $"must be between {min} and {max} (was {value}).") : null;

    private static string? BadChar(string s, int i, bool allowLineBreaks)
    {
        var c = s[i];
        if (char.IsHighSurrogate(c))
        {
            return i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? null : "a broken surrogate pair";
        }

        if (char.IsLowSurrogate(c))
        {
            return "a broken surrogate pair";
        }

        if (allowLineBreaks && c is '\n' or '\r' or '\t')
        {
            return null;
        }

        if (char.IsControl(c))
        {
            return c is '\n' or '\r' ? "a line break" : "a control character";
        }

        return CharUnicodeInfo.GetUnicodeCategory(c) switch
        {
            UnicodeCategory.Format => "a format character (such as a direction override or a zero-width space)",
            UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => "a line break",
            UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned => "an unassigned character",
            _ => null,
        };
    }
}
