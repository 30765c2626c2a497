using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CinemaVision.Server.Tests.Dashboards;

/// <summary>One InfluxQL query found in a dashboard file, and where (panel title and target, or template variable).</summary>
public sealed record DashboardQuery(string Dashboard, string Where, string Query);

/// <summary>Finds every query in Grafana dashboard JSON: panel targets (nested rows too) and template variables.</summary>
public static class DashboardQueries
{
    public static string DashboardsFolder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CinemaVision.sln")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("repository root (CinemaVision.sln) not found above " + AppContext.BaseDirectory), "dashboards");
    }

    public static IReadOnlyList<DashboardQuery> FindAll(string folder)
    {
        var found = new List<DashboardQuery>();
        foreach (var file in Directory.EnumerateFiles(folder, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var name = Path.GetRelativePath(folder, file);
            var root = doc.RootElement;
            if (root.TryGetProperty("templating", out var templating) && templating.TryGetProperty("list", out var variables))
            {
                foreach (var variable in variables.EnumerateArray())
                {
                    var query = variable.TryGetProperty("query", out var q) ? q.ValueKind == JsonValueKind.Object && q.TryGetProperty("query", out var inner) ? inner : q : default;
                    if (query.ValueKind == JsonValueKind.String && variable.GetProperty("type").GetString() == "query")
                    {
                        found.Add(new DashboardQuery(name, $"template variable ${variable.GetProperty("name").GetString()}", query.GetString()!));
                    }
                }
            }

            foreach (var (panel, target) in Targets(root))
            {
                foreach (var key in new[] { "query", "rawSql" })
                {
                    if (target.TryGetProperty(key, out var text) && text.ValueKind == JsonValueKind.String && text.GetString()!.Length > 0)
                    {
                        found.Add(new DashboardQuery(name, $"panel \"{panel.GetProperty("title").GetString()}\" target {Ref(target)}", text.GetString()!));
                    }
                }
            }
        }

        return found;
    }

    /// <summary>Targets built with Grafana's query editor instead of raw InfluxQL: this test cannot check them, so there must be none.</summary>
    public static IReadOnlyList<string> TargetsWithoutRawQuery(string folder) =>
    [
        .. Directory.EnumerateFiles(folder, "*.json", SearchOption.AllDirectories)
            .SelectMany(file =>
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(file));
                return Targets(doc.RootElement)
                    .Where(pt => !(pt.Target.TryGetProperty("rawQuery", out var raw) && raw.ValueKind == JsonValueKind.True && pt.Target.TryGetProperty("query", out _)))
                    .Select(pt => $"{Path.GetFileName(file)}: panel \"{pt.Panel.GetProperty("title").GetString()}\" target {Ref(pt.Target)}")
                    .ToList();
            }),
    ];

    private static string Ref(JsonElement target) => target.TryGetProperty("refId", out var r) ? r.GetString()! : "?";

    private static IEnumerable<(JsonElement Panel, JsonElement Target)> Targets(JsonElement container)
    {
        if (!container.TryGetProperty("panels", out var panels))
        {
            yield break;
        }

        foreach (var panel in panels.EnumerateArray())
        {
            if (panel.TryGetProperty("targets", out var targets))
            {
                foreach (var target in targets.EnumerateArray())
                {
                    yield return (panel.Clone(), target.Clone());
                }
            }

            foreach (var nested in Targets(panel))
            {
                yield return nested;
            }
        }
    }
}

/// <summary>What Grafana does to an InfluxQL query before sending it: macros and template variables.</summary>
public static partial class GrafanaMacros
{
    /// <exception cref="InvalidOperationException">The query uses a variable or macro with no value here.</exception>
    public static string Substitute(string query, IReadOnlyDictionary<string, string> variables, DateTimeOffset from, DateTimeOffset to)
    {
        var fromMs = from.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var toMs = to.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var builtIn = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["timeFilter"] = $"time >= {fromMs}ms and time <= {toMs}ms",
            ["__timeFilter"] = $"time >= {fromMs}ms and time <= {toMs}ms",
            ["__interval"] = "1m",
            ["interval"] = "1m",
            ["__interval_ms"] = "60000",
            ["__from"] = fromMs,
            ["__to"] = toMs,
        };

        // Regex forms (=~ /^$site$/) take the value escaped for a regular expression.
        var text = RegexVariable().Replace(query, m => "/^" + Regex.Escape(Value(m.Groups["name"].Value)) + "$/");
        return Variable().Replace(text, m => Value(m.Groups["braced"].Success ? m.Groups["braced"].Value : m.Groups["bracket"].Success ? m.Groups["bracket"].Value : m.Groups["plain"].Value));

        string Value(string name) =>
            builtIn.TryGetValue(name, out var v) || variables.TryGetValue(name, out v)
                ? v
                : throw new InvalidOperationException($"no value for ${name} in: {query}");
    }

    [GeneratedRegex(@"/\^\$\{?(?<name>[A-Za-z_][A-Za-z0-9_]*)\}?\$/")]
    private static partial Regex RegexVariable();

    [GeneratedRegex(@"\$\{(?<braced>[A-Za-z_][A-Za-z0-9_]*)(:[a-z]+)?\}|\[\[(?<bracket>[A-Za-z_][A-Za-z0-9_]*)\]\]|\$(?<plain>[A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Variable();
}
