using System.Text;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Datasets;

/// <summary>What a YOLO <c>data.yaml</c> says: class names in id order and the image folders.</summary>
public sealed record YoloDataYaml(IReadOnlyList<string> Names, string? Path, string? Train, string? Val, string? Test);

/// <summary>
/// YOLO (Darknet / Ultralytics): one text file per image, <c>class cx cy w h</c> normalised to the image size,
/// class ids indexing the names in <c>data.yaml</c>. Coordinates are written with 6 decimals (under 0.01 px for
/// images up to 10,000 px wide). YOLO has no ignore flag and no track id: writers drop ignore regions and say so.
/// </summary>
public static class YoloFormat
{
    public static List<AnnotationBox> ReadLabels(string text, string fileName, SizeI imageSize, IReadOnlyList<string> names)
    {
        var boxes = new List<AnnotationBox>();
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 5) throw AnnotationFormatException.AtLine(fileName, lineNo, $"expected 'class cx cy w h', got {f.Length} fields.");
            if (!Numbers.TryInt(f[0], out int c) || c < 0) throw AnnotationFormatException.AtLine(fileName, lineNo, $"class is not a non-negative integer: '{f[0]}'.");
            float cx = Float(f[1], fileName, lineNo, "cx"), cy = Float(f[2], fileName, lineNo, "cy"), w = Float(f[3], fileName, lineNo, "w"), h = Float(f[4], fileName, lineNo, "h");
            if (w < 0 || h < 0) throw AnnotationFormatException.AtLine(fileName, lineNo, "w and h must not be negative.");
            if (cx is < -0.01f or > 1.01f || cy is < -0.01f or > 1.01f || w > 1.01f || h > 1.01f)
            {
                throw AnnotationFormatException.AtLine(fileName, lineNo, "coordinates must be normalised to 0..1 (is this a pixel-coordinate file?).");
            }

            string label = c < names.Count ? names[c] : throw AnnotationFormatException.AtLine(fileName, lineNo, $"class {c} is not among the {names.Count} names ({string.Join(", ", names)}).");
            float? score = f.Length > 5 && Numbers.TryFloat(f[5], out var s) ? s : null;
            boxes.Add(new AnnotationBox(BoxF.FromCenter(cx * imageSize.Width, cy * imageSize.Height, w * imageSize.Width, h * imageSize.Height), label, Score: score));
        }

        return boxes;
    }

    /// <summary>One image's label file; ignore boxes are left out (counted in <paramref name="notes"/>' caller summary).</summary>
    public static string WriteLabels(AnnotatedImage image, IReadOnlyList<string> names, bool withScores = false)
    {
        var size = image.RequireSize("YOLO (normalised coordinates)");
        var sb = new StringBuilder();
        foreach (var b in image.Boxes)
        {
            if (b.Ignore) continue;
            int c = IndexOf(names, b.Label);
            sb.Append(Numbers.I(c)).Append(' ')
                .Append(Numbers.Fixed6((double)b.Box.CenterX / size.Width)).Append(' ')
                .Append(Numbers.Fixed6((double)b.Box.CenterY / size.Height)).Append(' ')
                .Append(Numbers.Fixed6((double)b.Box.Width / size.Width)).Append(' ')
                .Append(Numbers.Fixed6((double)b.Box.Height / size.Height));
            if (withScores && b.Score is { } s) sb.Append(' ').Append(Numbers.Fixed6(s));
            sb.Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Notes for what a YOLO copy of the set cannot hold.</summary>
    public static void Describe(AnnotationSet set, ICollection<string> notes)
    {
        int ignored = set.Images.Sum(i => i.Boxes.Count(b => b.Ignore));
        if (ignored > 0) notes.Add($"YOLO has no ignore flag: {ignored} ignore region(s) left out.");
    }

    /// <summary>The label file name for an image: its stem + ".txt".</summary>
    public static string FileNameFor(string imageFileName) => System.IO.Path.GetFileNameWithoutExtension(imageFileName) + ".txt";

    public static string WriteDataYaml(IReadOnlyList<string> names, string path = ".", string train = "images", string? val = "images")
    {
        var sb = new StringBuilder();
        sb.Append("# YOLO data set (Ultralytics layout: labels/ beside images/)\n");
        sb.Append("path: ").Append(Quote(path)).Append('\n');
        sb.Append("train: ").Append(Quote(train)).Append('\n');
        if (val is not null) sb.Append("val: ").Append(Quote(val)).Append('\n');
        sb.Append("nc: ").Append(Numbers.I(names.Count)).Append('\n');
        sb.Append("names:\n");
        for (int i = 0; i < names.Count; i++) sb.Append("  ").Append(Numbers.I(i)).Append(": ").Append(Quote(names[i])).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// Reads the keys of a <c>data.yaml</c> that matter here: <c>names</c> (a block list, an inline list or an
    /// id: name map), <c>nc</c> (checked against the names), <c>path</c>, <c>train</c>, <c>val</c>, <c>test</c>.
    /// </summary>
    public static YoloDataYaml ReadDataYaml(string text, string fileName)
    {
        var scalars = new Dictionary<string, (string Value, int Line)>(StringComparer.Ordinal);
        var names = new SortedDictionary<int, string>();
        var listNames = new List<string>();
        bool inNames = false;
        int namesLine = 0;
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var noComment = StripComment(raw);
            if (noComment.Trim().Length == 0) continue;
            bool indented = char.IsWhiteSpace(noComment[0]);
            var line = noComment.Trim();
            if (inNames && (indented || line.StartsWith('-')))
            {
                if (line.StartsWith('-'))
                {
                    listNames.Add(Unquote(line[1..].Trim()));
                }
                else
                {
                    int colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon <= 0 || !Numbers.TryInt(line[..colon], out int id)) throw AnnotationFormatException.AtLine(fileName, lineNo, $"a names entry must be '- name' or 'id: name', got '{line}'.");
                    names[id] = Unquote(line[(colon + 1)..].Trim());
                }

                continue;
            }

            inNames = false;
            int c = line.IndexOf(':', StringComparison.Ordinal);
            if (c <= 0) throw AnnotationFormatException.AtLine(fileName, lineNo, $"expected 'key: value', got '{line}'.");
            var key = line[..c].Trim();
            var value = line[(c + 1)..].Trim();
            if (key == "names")
            {
                namesLine = lineNo;
                if (value.Length == 0) inNames = true;
                else if (value.StartsWith('[') && value.EndsWith(']')) listNames.AddRange(SplitInline(value[1..^1]));
                else if (value.StartsWith('{') && value.EndsWith('}'))
                {
                    foreach (var part in SplitInline(value[1..^1]))
                    {
                        int pc = part.IndexOf(':', StringComparison.Ordinal);
                        if (pc <= 0 || !Numbers.TryInt(part[..pc], out int id)) throw AnnotationFormatException.AtLine(fileName, lineNo, $"a names entry must be 'id: name', got '{part}'.");
                        names[id] = Unquote(part[(pc + 1)..].Trim());
                    }
                }
                else throw AnnotationFormatException.AtLine(fileName, lineNo, "names must be a list or an id: name map.");
                continue;
            }

            scalars[key] = (Unquote(value), lineNo);
        }

        List<string> result;
        if (names.Count > 0)
        {
            if (names.Keys.First() != 0 || names.Keys.Last() != names.Count - 1) throw AnnotationFormatException.AtLine(fileName, namesLine, "names ids must run 0, 1, 2, ... without gaps.");
            result = [.. names.Values];
        }
        else
        {
            result = listNames;
        }

        if (result.Count == 0) throw new AnnotationFormatException(fileName, "names", "no class names (expected a 'names:' list).");
        if (scalars.TryGetValue("nc", out var nc) && (!Numbers.TryInt(nc.Value, out int n) || n != result.Count))
        {
            throw AnnotationFormatException.AtLine(fileName, nc.Line, $"nc is {nc.Value} but {result.Count} names are given.");
        }

        string? Get(string k) => scalars.TryGetValue(k, out var v) && v.Value.Length > 0 ? v.Value : null;
        return new YoloDataYaml(result, Get("path"), Get("train"), Get("val"), Get("test"));
    }

    /// <summary>Class names from a <c>classes.txt</c> / <c>obj.names</c> file: one a line.</summary>
    public static List<string> ReadNamesFile(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();

    private static int IndexOf(IReadOnlyList<string> names, string label)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], label, StringComparison.Ordinal)) return i;
        }

        throw new FormatException($"Label '{label}' is not in the class list ({string.Join(", ", names)}).");
    }

    private static string StripComment(string line)
    {
        bool single = false, dbl = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (ch == '\'' && !dbl) single = !single;
            else if (ch == '"' && !single) dbl = !dbl;
            else if (ch == '#' && !single && !dbl && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[..i].TrimEnd('\r');
        }

        return line.TrimEnd('\r');
    }

    private static IEnumerable<string> SplitInline(string s)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        char quote = '\0';
        foreach (char ch in s)
        {
            if (quote != '\0')
            {
                if (ch == quote) quote = '\0';
                current.Append(ch);
            }
            else if (ch is '\'' or '"')
            {
                quote = ch;
                current.Append(ch);
            }
            else if (ch == ',')
            {
                parts.Add(current.ToString().Trim());
                current.Clear();
            }
            else
            {
                current.Append(ch);
            }
        }

        if (current.ToString().Trim().Length > 0) parts.Add(current.ToString().Trim());
        return parts.Select(p => p.Contains(':', StringComparison.Ordinal) && !(p.StartsWith('\'') || p.StartsWith('"')) ? p : Unquote(p));
    }

    private static string Unquote(string s) =>
        s.Length >= 2 && ((s[0] == '\'' && s[^1] == '\'') || (s[0] == '"' && s[^1] == '"')) ? s[1..^1] : s;

    private static string Quote(string s) =>
        s.Length > 0 && s.All(ch => char.IsLetterOrDigit(ch) || ch is '_' or '-' or '.' or '/') ? s : "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static float Float(string s, string file, int line, string field) =>
        Numbers.TryFloat(s, out var v) ? v : throw AnnotationFormatException.AtLine(file, line, $"field '{field}' is not a number: '{s}'.");
}
