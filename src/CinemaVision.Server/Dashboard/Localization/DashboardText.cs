using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;

namespace CinemaVision.Server.Dashboard.Localization;

/// <summary>
/// The dashboard's words in each language it speaks (<c>en</c>, <c>zh-CN</c>), from the embedded
/// <c>Localization/*.json</c> files. Lookups follow <see cref="CultureInfo.CurrentUICulture"/> (set per request and
/// per dashboard connection from the person's choice), fall back to English, then to the key itself so a missing
/// word shows up instead of breaking the page.
/// </summary>
public sealed class DashboardText
{
    public const string English = "en";
    public const string Chinese = "zh-CN";

    private readonly FrozenDictionary<string, FrozenDictionary<string, string>> _languages;

    public DashboardText()
    {
        var assembly = typeof(DashboardText).Assembly;
        var languages = new Dictionary<string, FrozenDictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var culture in new[] { English, Chinese })
        {
            using var stream = assembly.GetManifestResourceStream($"CinemaVision.Server.Dashboard.Localization.{culture}.json")
                ?? throw new InvalidOperationException($"The dashboard texts for '{culture}' are not embedded.");
            var words = JsonSerializer.Deserialize<Dictionary<string, string>>(stream) ?? [];
            languages[culture] = words.ToFrozenDictionary(StringComparer.Ordinal);
        }

        _languages = languages.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    public string this[string key] => Get(CultureInfo.CurrentUICulture, key);

    public string this[string key, params object?[] args] => string.Format(CultureInfo.CurrentCulture, this[key], args);

    public string Get(CultureInfo culture, string key)
    {
        var language = Language(culture);
        if (_languages[language].TryGetValue(key, out var text)) return text;
        return _languages[English].TryGetValue(key, out var english) ? english : key;
    }

    /// <summary>The keys of a language (tests check both languages have the same).</summary>
    public IReadOnlyDictionary<string, string> All(string culture) => _languages[culture];

    /// <summary>The dashboard language for a culture: Chinese for any zh culture, else English.</summary>
    public static string Language(CultureInfo culture) =>
        culture.Name.StartsWith("zh", StringComparison.OrdinalIgnoreCase) ? Chinese : English;
}
